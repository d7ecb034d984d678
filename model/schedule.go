package model

import "math"

// Schedule is OpenRLHF's learning-rate schedule: transformers'
// "cosine_with_min_lr" with linear warm-up over ceil(3% of the steps) and a
// floor of MinLR (0.1·LR in OpenRLHF).
type Schedule struct {
	LR, MinLR   float64
	WarmupSteps int
	TotalSteps  int
}

// CosineSchedule is the OpenRLHF default for total optimizer steps.
func CosineSchedule(lr float64, totalSteps int) Schedule {
	return Schedule{LR: lr, MinLR: 0.1 * lr, WarmupSteps: int(math.Ceil(0.03 * float64(totalSteps))), TotalSteps: totalSteps}
}

// At is the learning rate for the optimizer step that follows `step`
// completed steps (HF's LambdaLR: step 0 of a warm-up uses lr 0).
func (s Schedule) At(step int) float64 {
	if s.TotalSteps <= 0 {
		return s.LR
	}
	if step < s.WarmupSteps {
		return s.LR * float64(step) / float64(max(1, s.WarmupSteps))
	}
	progress := float64(step-s.WarmupSteps) / float64(max(1, s.TotalSteps-s.WarmupSteps))
	f := 0.5 * (1 + math.Cos(math.Pi*progress))
	minRate := s.MinLR / s.LR
	return s.LR * math.Max(0, f*(1-minRate)+minRate)
}
