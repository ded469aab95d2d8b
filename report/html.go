package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// HTML renders the runs as one self-contained page: a summary of each,
// the ratio table when there are two or more, and every chart inline as
// SVG. It loads nothing from anywhere.
func HTML(runs []Run) ([]byte, error) {
	ps, err := panels(runs)
	if err != nil {
		return nil, err
	}
	page := htmlPage{Generated: time.Now().UTC().Format(time.RFC3339)}
	for _, r := range runs {
		var s strings.Builder
		Header(&s, r.Result.Start)
		Summary(&s, r.Result)
		page.Runs = append(page.Runs, htmlRun{Name: r.Name, Summary: s.String()})
	}
	if len(runs) > 1 {
		page.Head = []string{""}
		page.Head = append(page.Head, runs[0].Name)
		for _, r := range runs[1:] {
			page.Head = append(page.Head, r.Name, "×")
		}
		for _, row := range ratios(runs) {
			page.Ratios = append(page.Ratios, strings.Split(row, "\t"))
		}
	}
	for _, p := range ps {
		svg, err := render([]panel{p}, SVG)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.title, err)
		}
		page.Charts = append(page.Charts, htmlChart{Title: p.title, SVG: template.HTML(svg)}) // our own renderer's SVG
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, page); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type htmlPage struct {
	Generated string
	Runs      []htmlRun
	Head      []string
	Ratios    [][]string
	Charts    []htmlChart
}

type htmlRun struct{ Name, Summary string }

type htmlChart struct {
	Title string
	SVG   template.HTML
}

var pageTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sockit bench report</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; text-align: right; border-bottom: 1px solid #ddd; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; } svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>sockit bench report</h1>
<p>Generated {{.Generated}}.</p>
{{range .Runs}}<h2 class="run">{{.Name}}</h2>
<pre>{{.Summary}}</pre>
{{end}}{{if .Ratios}}<h2>Comparison</h2>
<table id="ratios"><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Ratios}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .Charts}}<figure class="chart"><figcaption>{{.Title}}</figcaption>
{{.SVG}}
</figure>
{{end}}</body>
</html>
`))
