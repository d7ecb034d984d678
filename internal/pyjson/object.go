package pyjson

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Object is a JSON object that keeps its keys in insertion order, as a Python
// dict does. Objects in tool-calling data are small, so lookups scan a slice.
type Object struct {
	Members []Member
}

// NewObject returns an object with the given key/value pairs (k1, v1, k2, v2, ...).
func NewObject(kv ...any) *Object {
	o := &Object{Members: make([]Member, 0, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Members)
}

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for i := range o.Members {
		if o.Members[i].Key == k {
			return o.Members[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether key k is present.
func (o *Object) Has(k string) bool {
	_, ok := o.Get(k)
	return ok
}

// Set replaces the value of k in place, or appends k at the end.
func (o *Object) Set(k string, v any) {
	for i := range o.Members {
		if o.Members[i].Key == k {
			o.Members[i].Value = v
			return
		}
	}
	o.Members = append(o.Members, Member{k, v})
}

// Delete removes key k, keeping the order of the others.
func (o *Object) Delete(k string) {
	for i := range o.Members {
		if o.Members[i].Key == k {
			o.Members = append(o.Members[:i], o.Members[i+1:]...)
			return
		}
	}
}

// Keys returns the keys in order.
func (o *Object) Keys() []string {
	keys := make([]string, o.Len())
	for i := range keys {
		keys[i] = o.Members[i].Key
	}
	return keys
}

// String returns the object's JSON (json.dumps form).
func (o *Object) String() string { return string(Marshal(o)) }
