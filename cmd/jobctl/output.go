package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"
	"golang.org/x/term"

	"github.com/dainostore/jobs/client"
)

// output writes what a command shows: text for people, or the API's JSON
// objects for scripts.
type output struct {
	w    io.Writer
	json bool
	// terminal says w is one; colour needs it too, and NO_COLOR unset.
	terminal, color bool
}

func newOutput(w io.Writer, asJSON bool, getenv func(string) string) *output {
	terminal := isTerminal(w)
	return &output{
		w: w, json: asJSON, terminal: terminal,
		color: terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb",
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// width is the terminal's width in columns, or 80 when it cannot tell.
func (o *output) width() int {
	if f, ok := o.w.(*os.File); ok && o.terminal {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}

// printf writes text.
func (o *output) printf(format string, args ...any) {
	fmt.Fprintf(o.w, format, args...)
}

// document prints one JSON document, indented for reading.
func (o *output) document(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// line prints one JSON object on one line, as streaming commands do.
func (o *output) line(v any) error {
	return json.NewEncoder(o.w).Encode(v)
}

// paint colours s, only where colours are on: fatih/color decides by
// os.Stdout alone, and jobctl writes to the writer it was given.
func (o *output) paint(attr color.Attribute, s string) string {
	c := color.New(attr)
	if o.color {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint(s)
}

// statusColor tells the statuses apart at a glance.
func statusColor(s client.Status) color.Attribute {
	switch s {
	case client.StatusCompleted:
		return color.FgGreen
	case client.StatusFailed:
		return color.FgRed
	case client.StatusCancelled:
		return color.FgHiBlack
	case client.StatusRetrying:
		return color.FgYellow
	case client.StatusRunning:
		return color.FgCyan
	}
	return color.FgBlue
}

// noColor leaves a table cell as it is.
const noColor color.Attribute = -1

// table lays out rows with text/tabwriter. Colours are applied after the
// layout: tabwriter counts an escape sequence as text, so a coloured cell
// would push its column out of line.
type table struct {
	out    *output
	header []string
	rows   [][]string
	colors [][]color.Attribute
}

func (o *output) table(header ...string) *table {
	return &table{out: o, header: header}
}

// row adds a row of plain cells.
func (t *table) row(cells ...string) {
	t.colored(nil, cells...)
}

// colored adds a row whose cells are painted with colors (noColor, or
// missing, for none).
func (t *table) colored(colors []color.Attribute, cells ...string) {
	for i, cell := range cells {
		cells[i] = oneLine(cell)
	}
	t.rows = append(t.rows, cells)
	t.colors = append(t.colors, colors)
}

// print writes the table.
func (t *table) print() {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, cells := range t.rows {
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	starts := columnStarts(lines[0], len(t.header))
	for i, line := range lines {
		if i > 0 && t.out.color {
			line = t.paintRow(line, starts, t.rows[i-1], t.colors[i-1])
		}
		fmt.Fprintln(t.out.w, strings.TrimRight(line, " "))
	}
}

// columnStarts finds where each column starts, in runes, from the header
// line: every header is one word, and tabwriter starts a column at the
// same place on every line.
func columnStarts(header string, columns int) []int {
	starts := make([]int, 0, columns)
	inWord := false
	for i, r := range []rune(header) {
		if r != ' ' && !inWord {
			starts = append(starts, i)
		}
		inWord = r != ' '
	}
	return starts
}

// paintRow colours the cells of one laid-out line.
func (t *table) paintRow(line string, starts []int, cells []string, colors []color.Attribute) string {
	runes := []rune(line)
	var b strings.Builder
	at := 0
	for col, attr := range colors {
		if attr == noColor || col >= len(starts) || col >= len(cells) {
			continue
		}
		start, end := starts[col], starts[col]+utf8.RuneCountInString(cells[col])
		if end > len(runes) {
			continue
		}
		b.WriteString(string(runes[at:start]))
		b.WriteString(t.out.paint(attr, string(runes[start:end])))
		at = end
	}
	b.WriteString(string(runes[at:]))
	return b.String()
}

// oneLine keeps a cell on its line and out of tabwriter's columns.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// clock shows a time in the local zone, to the second.
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// clockPtr is clock of an optional time.
func clockPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return clock(*t)
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
