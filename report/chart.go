package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/go-analyze/charts"

	"github.com/sockit/sockit/loadgen"
)

// Formats Chart renders.
const (
	SVG = charts.ChartOutputSVG
	PNG = charts.ChartOutputPNG
)

// chartWidth and chartHeight are one panel's size in pixels.
const (
	chartWidth  = 900
	chartHeight = 360
)

// panel is one chart of a report.
type panel struct {
	title string
	draw  func(*charts.Painter) error
}

// panels are the report's charts for runs: the rate over time, the
// latency percentile spectrum when the runs timed anything, and the
// ratios to the first run when there are two or more.
func panels(runs []Run) ([]panel, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no runs to chart")
	}
	mode := runs[0].Result.Start.Test.Mode
	for _, r := range runs[1:] {
		if r.Result.Start.Test.Mode != mode {
			return nil, fmt.Errorf("%s is a %s run and %s a %s run: chart runs of one mode", runs[0].Name, mode, r.Name, r.Result.Start.Test.Mode)
		}
	}
	ps := []panel{rateOverTime(runs)}
	if p, ok := spectrum(runs); ok {
		ps = append(ps, p)
	}
	if len(runs) > 1 {
		ps = append(ps, ratioBars(runs))
	}
	return ps, nil
}

// Chart renders the report's panels, one above the other, as SVG or PNG.
func Chart(runs []Run, format string) ([]byte, error) {
	ps, err := panels(runs)
	if err != nil {
		return nil, err
	}
	return render(ps, format)
}

func render(ps []panel, format string) ([]byte, error) {
	h := chartHeight * len(ps)
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: format, Width: chartWidth, Height: h})
	p.FilledRect(0, 0, chartWidth, h, charts.ColorWhite, charts.ColorWhite, 0)
	for i, pn := range ps {
		child := p.Child(charts.PainterBoxOption(charts.NewBox(0, i*chartHeight, chartWidth, (i+1)*chartHeight)))
		if err := pn.draw(child); err != nil {
			return nil, fmt.Errorf("%s: %w", pn.title, err)
		}
	}
	return p.Bytes()
}

func names(runs []Run) []string {
	var n []string
	for _, r := range runs {
		n = append(n, r.Name)
	}
	return n
}

// rateOverTime charts each interval's rate: bits per second for
// throughput, operations per second for the others.
func rateOverTime(runs []Run) panel {
	mode := runs[0].Result.Start.Test.Mode
	unit, scale := "ops/s", 1.0
	if mode == loadgen.Throughput {
		unit, scale = "Gbit/s", 1e-9
	}
	n := 0
	for _, r := range runs {
		n = max(n, len(r.Result.Intervals))
	}
	values := make([][]float64, len(runs))
	for i, r := range runs {
		values[i] = make([]float64, n)
		for j := range values[i] {
			values[i][j] = charts.GetNullValue()
		}
		for j, iv := range r.Result.Intervals {
			v := iv.OpsRate
			if mode == loadgen.Throughput {
				v = iv.BPS
			}
			values[i][j] = v * scale
		}
	}
	labels := make([]string, n)
	for j := range labels {
		labels[j] = fmt.Sprintf("%ds", j+1)
	}
	title := fmt.Sprintf("%s over time (%s per interval)", rateName(mode), unit)
	return panel{title: title, draw: func(p *charts.Painter) error {
		opt := charts.NewLineChartOptionWithData(values)
		opt.Title = charts.TitleOption{Text: title}
		opt.Legend = charts.LegendOption{SeriesNames: names(runs), Offset: charts.OffsetRight}
		opt.XAxis.Labels = labels
		opt.YAxis = []charts.YAxisOption{{Min: charts.Ptr(0.0)}}
		opt.Symbol = charts.Symbol{Shape: charts.SymbolNone}
		opt.Padding = charts.NewBoxEqual(20)
		return p.LineChart(opt)
	}}
}

func rateName(mode string) string {
	switch mode {
	case loadgen.Throughput:
		return "Throughput"
	case loadgen.Connect:
		return "Connection rate"
	case loadgen.UDPMode:
		return "Datagram rate"
	}
	return "Request rate"
}

// spectrumSteps is how many points each decade of nines gets.
const spectrumSteps = 10

// spectrum charts latency against percentile on a log scale of nines
// (HdrHistogram's percentile distribution plot): 0, 90, 99, 99.9 ... up
// to what the largest run's count can tell.
func spectrum(runs []Run) (panel, bool) {
	var hists []func(float64) int64 // value at percentile, one per run
	nines := 0.0
	for _, r := range runs {
		l := r.Result.End.Latency
		if l == nil {
			return panel{}, false
		}
		h, err := l.Hist()
		if err != nil {
			return panel{}, false
		}
		hists = append(hists, h.ValueAtPercentile)
		nines = max(nines, math.Ceil(math.Log10(float64(max(l.Count, 10)))))
	}
	nines = min(nines, 6)
	points := int(nines)*spectrumSteps + 1
	labels := make([]string, points)
	values := make([][]float64, len(runs))
	for i := range values {
		values[i] = make([]float64, points)
	}
	for k := range points {
		x := float64(k) / spectrumSteps
		q := 100 * (1 - math.Pow(10, -x))
		if k%spectrumSteps == 0 {
			labels[k] = strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", q), "0"), ".") + "%"
		}
		for i, h := range hists {
			values[i][k] = float64(h(q)) / 1e3
		}
	}
	title := "Latency by percentile (µs; percentiles on a log scale of nines)"
	return panel{title: title, draw: func(p *charts.Painter) error {
		opt := charts.NewLineChartOptionWithData(values)
		opt.Title = charts.TitleOption{Text: title}
		opt.Legend = charts.LegendOption{SeriesNames: names(runs), Offset: charts.OffsetRight}
		opt.XAxis.Labels = labels
		opt.XAxis.LabelCount = points // every point's label; all but the decades' are blank
		opt.Symbol = charts.Symbol{Shape: charts.SymbolNone}
		opt.Padding = charts.NewBoxEqual(20)
		return p.LineChart(opt)
	}}, true
}

// ratioBars charts each later run's key figures as ratios to the first's.
func ratioBars(runs []Run) panel {
	var labels []string
	values := make([][]float64, len(runs)-1)
	for _, m := range metrics(runs[0].Result.Start.Test.Mode) {
		base, ok := m.value(runs[0].Result.End)
		if !ok || base == 0 {
			continue
		}
		labels = append(labels, m.name)
		for i, r := range runs[1:] {
			v, ok := m.value(r.Result.End)
			if !ok {
				values[i] = append(values[i], charts.GetNullValue())
				continue
			}
			values[i] = append(values[i], math.Round(v/base*100)/100)
		}
	}
	title := fmt.Sprintf("Ratio to %s (1 = the same)", runs[0].Name)
	return panel{title: title, draw: func(p *charts.Painter) error {
		opt := charts.NewBarChartOptionWithData(values)
		opt.Title = charts.TitleOption{Text: title}
		opt.Legend = charts.LegendOption{SeriesNames: names(runs[1:]), Offset: charts.OffsetRight}
		opt.CategoryAxis.Labels = labels
		opt.Padding = charts.NewBoxEqual(20)
		for i := range opt.SeriesList {
			opt.SeriesList[i].Label.Show = charts.Ptr(true)
		}
		return p.BarChart(opt)
	}}
}
