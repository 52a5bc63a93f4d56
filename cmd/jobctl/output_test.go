package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/fatih/color"
)

// Colours are applied after the table is laid out: on a terminal the
// columns line up as they do in plain text.
func TestTableColoursKeepColumnsInLine(t *testing.T) {
	t.Parallel()
	var plain, painted bytes.Buffer
	for _, out := range []*output{{w: &plain}, {w: &painted, terminal: true, color: true}} {
		table := out.table("ID", "STATUS", "MESSAGE")
		table.colored([]color.Attribute{noColor, color.FgGreen}, "a", "completed", "Simulating step 3/3")
		table.colored([]color.Attribute{noColor, color.FgRed}, "bbbbbb", "failed", truncate("Envoi vers Amazon : 16/30 — réessai bientôt, très bientôt", 30))
		table.print()
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colours without a terminal:\n%q", plain.String())
	}
	for _, want := range []string{"\x1b[32mcompleted\x1b[0m", "\x1b[31mfailed\x1b[0m"} {
		if !strings.Contains(painted.String(), want) {
			t.Errorf("no %q in:\n%q", want, painted.String())
		}
	}
	unpainted := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(painted.String(), "")
	if unpainted != plain.String() {
		t.Errorf("colours moved the columns:\n%s\nwant\n%s", unpainted, plain.String())
	}
}

// NO_COLOR and a dumb terminal turn colours off; a writer that is not a
// terminal never has them.
func TestColoursOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if out := newOutput(&buf, false, func(string) string { return "" }); out.color || out.terminal {
		t.Errorf("a buffer is taken for a terminal: %+v", out)
	}
	if got := (&output{w: &buf}).paint(color.FgRed, "failed"); got != "failed" {
		t.Errorf("painted %q without colours", got)
	}
}
