// Package pyjson reads and writes JSON the way Python's json module does, which
// is what STAR's data, prompts and rewards are made with:
//
//   - objects keep their key order (*Object), and a repeated key keeps its
//     first position with the last value, like a dict;
//   - integers of any size stay exact (int64, or *big.Int past 64 bits);
//   - floats print as Python's repr (1.0, 1e-05, 1e+16, 2.5, 300.0);
//   - Marshal is json.dumps: separators ", " and ": ", non-ASCII kept
//     (ensure_ascii=False, as HF's tojson filter).
//
// A decoded value is one of: nil, bool, int64, *big.Int, float64, string,
// []any, *Object. Equal, Str and Repr give Python's ==, str() and repr() of
// such values, which the Sim-RL reward and the BFCL checker depend on.
package pyjson
