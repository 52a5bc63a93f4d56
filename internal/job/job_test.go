package job

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCanTransition(t *testing.T) {
	t.Parallel()
	allowed := map[Status][]Status{
		StatusPending:   {StatusRunning, StatusCancelled, StatusFailed},
		StatusRunning:   {StatusRunning, StatusCompleted, StatusFailed, StatusRetrying, StatusCancelled},
		StatusRetrying:  {StatusRunning, StatusCancelled, StatusFailed},
		StatusCompleted: {},
		StatusFailed:    {StatusPending},
		StatusCancelled: {StatusPending},
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			want := false
			for _, s := range allowed[from] {
				want = want || s == to
			}
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	if CanTransition("bogus", StatusRunning) || CanTransition(StatusPending, "bogus") {
		t.Error("unknown statuses must not transition")
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	for _, s := range Statuses {
		want := s == StatusCompleted || s == StatusFailed || s == StatusCancelled
		if s.Terminal() != want {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
}

func TestParsePriority(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Priority
		wantErr bool
	}{
		{"urgent", PriorityUrgent, false},
		{"HIGH", PriorityHigh, false},
		{" normal ", PriorityNormal, false},
		{"low", PriorityLow, false},
		{"1", PriorityUrgent, false},
		{"2", PriorityHigh, false},
		{"3", PriorityNormal, false},
		{"10", PriorityLow, false},
		{"4", 0, true},
		{"0", 0, true},
		{"medium", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParsePriority(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParsePriority(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPriorityJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Priority
		wantErr bool
	}{
		{`"urgent"`, PriorityUrgent, false},
		{`1`, PriorityUrgent, false},
		{`10`, PriorityLow, false},
		{`"10"`, PriorityLow, false},
		{`2.5`, 0, true},
		{`5`, 0, true},
		{`true`, 0, true},
		{`null`, 0, true},
	}
	for _, tt := range tests {
		var p Priority
		err := json.Unmarshal([]byte(tt.in), &p)
		if (err != nil) != tt.wantErr || p != tt.want {
			t.Errorf("unmarshal %s = %v, %v; want %v, error %v", tt.in, p, err, tt.want, tt.wantErr)
		}
	}
	out, _ := json.Marshal(PriorityHigh)
	if string(out) != `"high"` {
		t.Errorf("marshal high = %s", out)
	}
}

func TestTimeFormat(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 7, 6, 5, 123456789, time.FixedZone("CET", 3600))
	out, _ := json.Marshal(NewTime(at))
	if string(out) != `"2026-11-29T06:06:05.123Z"` {
		t.Errorf("time = %s, want RFC 3339 in UTC with milliseconds", out)
	}
	var back Time
	if err := json.Unmarshal(out, &back); err != nil || !back.Equal(NewTime(at).Time) {
		t.Errorf("round trip = %v, %v", back, err)
	}
	whole, _ := json.Marshal(NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if string(whole) != `"2026-01-02T03:04:05.000Z"` {
		t.Errorf("whole second = %s, want milliseconds written out", whole)
	}
}
