package sample

import (
	"reflect"
	"testing"
)

// Expected values are CPython 3's random module outputs.
func TestPythonRandom(t *testing.T) {
	if got := NewRand(42).Float64(); got != 0.6394267984578837 {
		t.Errorf("seed 42 random() = %v", got)
	}
	if got := NewRand(0).Float64(); got != 0.8444218515250481 {
		t.Errorf("seed 0 random() = %v", got)
	}
	r := NewRand(1<<40 + 3)
	if got := r.Float64(); got != 0.21978710637116716 {
		t.Errorf("seed 2**40+3 random() = %v", got)
	}
	if got := r.GetRandBits(70).String(); got != "126060664369346903122" {
		t.Errorf("getrandbits(70) = %s", got)
	}
	r = NewRand(7)
	if a, b := r.GetRandBits(32).Int64(), r.GetRandBits(5).Int64(); a != 1390851128 || b != 30 {
		t.Errorf("seed 7 getrandbits = %d %d", a, b)
	}
	x := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	NewRand(42).Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
	if want := []int{7, 3, 2, 8, 5, 6, 9, 4, 0, 1}; !reflect.DeepEqual(x, want) {
		t.Errorf("shuffle = %v", x)
	}
	if got, want := NewRand(42).Sample(100, 5), []int{81, 14, 3, 94, 35}; !reflect.DeepEqual(got, want) {
		t.Errorf("sample(range(100), 5) = %v", got)
	}
	if got, want := NewRand(42).Sample(100000, 8), []int{83810, 14592, 3278, 97196, 36048, 32098, 29256, 18289}; !reflect.DeepEqual(got, want) {
		t.Errorf("sample(range(100000), 8) = %v", got)
	}
	// shuffle then sample from the same generator state.
	r = NewRand(42)
	y := make([]int, 1000)
	for i := range y {
		y[i] = i
	}
	r.Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
	var got []int
	for _, i := range r.Sample(len(y), 30) {
		got = append(got, y[i])
	}
	want := []int{587, 22, 194, 884, 91, 425, 496, 626, 843, 69, 761, 526, 701, 295, 493, 946, 17, 99, 272, 445, 656, 58, 951, 255, 479, 983, 147, 531, 560, 803}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shuffle+sample = %v", got)
	}
}
