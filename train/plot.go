package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one metric of one run over steps.
type Series struct {
	Run, Metric string
	Steps, Vals []float64
}

// panel is one chart: the metrics it draws.
type panel struct {
	title   string
	metrics []string // "split:name"
	logY    bool
}

var panels = []panel{
	{"loss", []string{"train:loss", "eval:loss"}, false},
	{"Sim-RL reward", []string{"train:reward_mean", "train:kept_reward_mean", "train:format_error_frac"}, false},
	{"loss parts", []string{"train:kl", "train:penalty", "train:ce", "train:policy_loss", "train:reward"}, false},
	{"learning rate", []string{"train:lr"}, false},
	{"gradient norm (before clipping)", []string{"train:grad_norm"}, false},
}

// ReadMetrics reads a run's metrics.jsonl into series keyed "split:name"
// (lines without a split count as train).
func ReadMetrics(runDir string) (map[string]*Series, error) {
	path := filepath.Join(runDir, MetricsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*Series{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue // a torn last line
		}
		step, ok := m["step"].(float64)
		if !ok {
			return nil, fmt.Errorf("%s:%d: no step", path, line)
		}
		split, _ := m["split"].(string)
		if split == "" {
			split = "train"
		}
		for k, v := range m {
			x, ok := v.(float64)
			if !ok || k == "step" {
				continue
			}
			key := split + ":" + k
			s := out[key]
			if s == nil {
				s = &Series{Run: filepath.Base(filepath.Clean(runDir)), Metric: key}
				out[key] = s
			}
			s.Steps, s.Vals = append(s.Steps, step), append(s.Vals, x)
		}
	}
	return out, sc.Err()
}

// Plot draws the metrics of one or several runs into a PNG: one row of
// charts per panel (loss and eval loss, loss parts, learning rate, gradient
// norm), the runs overlaid in each chart with a legend.
func Plot(runDirs []string, out string) error {
	runs := make([]map[string]*Series, len(runDirs))
	for i, d := range runDirs {
		var err error
		if runs[i], err = ReadMetrics(d); err != nil {
			return err
		}
	}
	var rows [][]*plot.Plot
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "step"
		p.Legend.Top = true
		if pn.logY {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		n := 0
		for ri, run := range runs {
			for mi, key := range pn.metrics {
				s := run[key]
				if s == nil || len(s.Steps) == 0 {
					continue
				}
				pts := make(plotter.XYs, 0, len(s.Steps))
				for i := range s.Steps {
					if pn.logY && s.Vals[i] <= 0 {
						continue
					}
					pts = append(pts, plotter.XY{X: s.Steps[i], Y: s.Vals[i]})
				}
				sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
				l, err := plotter.NewLine(pts)
				if err != nil {
					return err
				}
				l.Color = plotutil.Color(ri)
				l.Dashes = plotutil.Dashes(mi)
				l.Width = vg.Points(1.2)
				p.Add(l)
				if len(pts) < 20 { // few points: mark them (one eval, one step)
					sc, _ := plotter.NewScatter(pts)
					sc.Color = l.Color
					sc.Shape = draw.CircleGlyph{}
					p.Add(sc)
				}
				label := key
				if len(runs) > 1 {
					label = s.Run + " " + key
				}
				p.Legend.Add(label, l)
				n++
			}
		}
		if n == 0 {
			continue
		}
		p.Add(plotter.NewGrid())
		rows = append(rows, []*plot.Plot{p})
	}
	if len(rows) == 0 {
		return fmt.Errorf("no metrics to plot in %v", runDirs)
	}
	const w, rowH = 9 * vg.Inch, 3 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, rowH*vg.Length(len(rows))), vgimg.UseBackgroundColor(color.White), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(rows, tiles, dc)
	for i, r := range rows {
		r[0].Draw(canvases[i][0])
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}
