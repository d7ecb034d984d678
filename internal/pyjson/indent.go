package pyjson

// AppendIndent appends the JSON of v the way json.dumps(v, indent=indent,
// ensure_ascii=ensureASCII) prints it: each element on its own line indented
// by one more copy of indent per level, item separator "," and key separator
// ": " (Python's defaults when indent is given), empty containers as [] and {}.
// indent is the indent string (json.dumps' int n is n spaces); "" still
// breaks lines, as indent=0 does.
func AppendIndent(dst []byte, v any, indent string, ensureASCII bool) []byte {
	return appendIndent(dst, v, indent, 0, &Options{EnsureASCII: ensureASCII})
}

func appendIndent(dst []byte, v any, indent string, level int, opt *Options) []byte {
	newline := func(dst []byte, level int) []byte {
		dst = append(dst, '\n')
		for i := 0; i < level; i++ {
			dst = append(dst, indent...)
		}
		return dst
	}
	switch x := v.(type) {
	case *Object:
		if x == nil || len(x.Members) == 0 {
			return Append(dst, v, opt)
		}
		dst = append(dst, '{')
		for i, m := range x.Members {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = newline(dst, level+1)
			dst = AppendString(dst, m.Key, opt.EnsureASCII)
			dst = append(dst, ": "...)
			dst = appendIndent(dst, m.Value, indent, level+1, opt)
		}
		dst = newline(dst, level)
		return append(dst, '}')
	case []any:
		if len(x) == 0 {
			return append(dst, "[]"...)
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = newline(dst, level+1)
			dst = appendIndent(dst, e, indent, level+1, opt)
		}
		dst = newline(dst, level)
		return append(dst, ']')
	case map[string]any:
		o := &Object{}
		for k, e := range x {
			o.Set(k, e)
		}
		return appendIndent(dst, o, indent, level, opt)
	case Marshaler:
		// Marshalers that are sequences (e.g. tuples) expose themselves as []any.
		if s, ok := v.(interface{ PyJSONList() []any }); ok {
			return appendIndent(dst, s.PyJSONList(), indent, level, opt)
		}
		return x.AppendPyJSON(dst, opt)
	}
	return Append(dst, v, opt)
}
