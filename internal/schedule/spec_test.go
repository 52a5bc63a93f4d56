package schedule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
)

func mustCompile(t *testing.T, s Spec) *Compiled {
	t.Helper()
	c, err := s.Compile()
	if err != nil {
		t.Fatalf("compile %+v: %v", s, err)
	}
	return c
}

// dueTimes lists the due times after from up to until, as the schedule's
// zone shows them.
func dueTimes(t *testing.T, c *Compiled, from, until time.Time) []time.Time {
	t.Helper()
	var due []time.Time
	for at := c.Next(from); !at.After(until); at = c.Next(at) {
		if at.IsZero() {
			t.Fatalf("no due time after %s", from)
		}
		if len(due) > 0 && !at.After(due[len(due)-1]) {
			t.Fatalf("due times not increasing: %s after %s", at, due[len(due)-1])
		}
		due = append(due, at.In(c.Location()))
		if len(due) > 10_000 {
			t.Fatal("too many due times")
		}
	}
	return due
}

func formatAll(times []time.Time) []string {
	out := make([]string, len(times))
	for i, at := range times {
		out[i] = at.Format("2006-01-02 15:04 MST")
	}
	return out
}

func TestDailyScheduleRunsOncePerLocalDayAcrossDSTNights(t *testing.T) {
	t.Parallel()
	cases := []struct {
		zone, at string
		from, to string // local dates, both included
		want     []string
	}{
		{
			zone: "Europe/Berlin", at: "02:30", from: "2026-03-27", to: "2026-04-01",
			want: []string{
				"2026-03-27 02:30 CET", "2026-03-28 02:30 CET",
				"2026-03-29 03:30 CEST", // in the gap: shifted forward by it
				"2026-03-30 02:30 CEST", "2026-03-31 02:30 CEST", "2026-04-01 02:30 CEST",
			},
		},
		{
			zone: "Europe/Berlin", at: "02:30", from: "2026-10-23", to: "2026-10-28",
			want: []string{
				"2026-10-23 02:30 CEST", "2026-10-24 02:30 CEST",
				"2026-10-25 02:30 CEST", // the first of the two
				"2026-10-26 02:30 CET", "2026-10-27 02:30 CET", "2026-10-28 02:30 CET",
			},
		},
		{
			zone: "Europe/Berlin", at: "01:30", from: "2026-03-28", to: "2026-03-30",
			want: []string{"2026-03-28 01:30 CET", "2026-03-29 01:30 CET", "2026-03-30 01:30 CEST"},
		},
		{
			zone: "Europe/Berlin", at: "03:30", from: "2026-03-28", to: "2026-03-30",
			want: []string{"2026-03-28 03:30 CET", "2026-03-29 03:30 CEST", "2026-03-30 03:30 CEST"},
		},
		{
			zone: "Europe/Berlin", at: "01:30", from: "2026-10-24", to: "2026-10-26",
			want: []string{"2026-10-24 01:30 CEST", "2026-10-25 01:30 CEST", "2026-10-26 01:30 CET"},
		},
		{
			zone: "Europe/Berlin", at: "03:30", from: "2026-10-24", to: "2026-10-26",
			want: []string{"2026-10-24 03:30 CEST", "2026-10-25 03:30 CET", "2026-10-26 03:30 CET"},
		},
		{
			// West of Greenwich time.Date would make this 01:30 EST.
			zone: "America/New_York", at: "02:30", from: "2026-03-07", to: "2026-03-09",
			want: []string{"2026-03-07 02:30 EST", "2026-03-08 03:30 EDT", "2026-03-09 02:30 EDT"},
		},
		{
			zone: "America/New_York", at: "01:30", from: "2026-10-31", to: "2026-11-02",
			want: []string{"2026-10-31 01:30 EDT", "2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"},
		},
		{
			zone: "America/New_York", at: "02:30", from: "2026-10-31", to: "2026-11-02",
			want: []string{"2026-10-31 02:30 EDT", "2026-11-01 02:30 EST", "2026-11-02 02:30 EST"},
		},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s %s", tc.zone, tc.at, tc.from), func(t *testing.T) {
			t.Parallel()
			c := mustCompile(t, Spec{Every: EveryDay, At: tc.at, TimeZone: tc.zone})
			from, _ := time.ParseInLocation("2006-01-02", tc.from, c.Location())
			to, _ := time.ParseInLocation("2006-01-02", tc.to, c.Location())
			got := formatAll(dueTimes(t, c, from, to.AddDate(0, 0, 1).Add(-time.Nanosecond)))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("due times:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestNextFromInsideTheRepeatedHourDoesNotRunAgain(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Spec{Every: EveryDay, At: "02:30", TimeZone: "Europe/Berlin"})
	// 02:40 CET on 2026-10-25: the second time the clocks show 02:40.
	second := time.Date(2026, time.October, 25, 1, 40, 0, 0, time.UTC)
	if got, want := c.Next(second), time.Date(2026, time.October, 26, 1, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s (the next day)", second, got, want)
	}
	// Between the gap's start and the shifted run, the shifted run is next.
	inGap := time.Date(2026, time.March, 29, 1, 10, 0, 0, time.UTC) // 03:10 CEST
	if got, want := c.Next(inGap), time.Date(2026, time.March, 29, 1, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", inGap, got, want)
	}
}

func TestEveryHalfHourAcrossDSTNightsHasEachWallTimeOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone, night string
		wantCount   int // due times in the local day
	}{
		{"Europe/Berlin", "2026-10-25", 48},
		{"Europe/Berlin", "2026-03-29", 46}, // 02:00 and 02:30 fall on 03:00 and 03:30
		{"America/New_York", "2026-11-01", 48},
		{"America/New_York", "2026-03-08", 46},
	} {
		t.Run(tc.zone+" "+tc.night, func(t *testing.T) {
			t.Parallel()
			c := mustCompile(t, Spec{Cron: "*/30 * * * *", TimeZone: tc.zone})
			day, _ := time.ParseInLocation("2006-01-02", tc.night, c.Location())
			end := day.AddDate(0, 0, 1)
			due := dueTimes(t, c, day.Add(-time.Nanosecond), end.Add(-time.Nanosecond))
			seen := map[string]bool{}
			for _, at := range due {
				wall := at.Format("15:04")
				if seen[wall] {
					t.Errorf("%s is due twice", wall)
				}
				seen[wall] = true
			}
			if len(due) != tc.wantCount {
				t.Errorf("%d due times, want %d:\n%s", len(due), tc.wantCount, strings.Join(formatAll(due), "\n"))
			}
		})
	}
}

func TestGapOccurrencesKeepTheirOrderWithTimesJustAfterTheGap(t *testing.T) {
	t.Parallel()
	// Lord Howe Island moves its clocks 30 minutes, 02:00 to 02:30: 02:10
	// is shifted to 02:40, after 02:35, which the clocks do show.
	c := mustCompile(t, Spec{Cron: "10,35 2 * * *", TimeZone: "Australia/Lord_Howe"})
	day, _ := time.ParseInLocation("2006-01-02", "2026-10-04", c.Location())
	got := formatAll(dueTimes(t, c, day, day.AddDate(0, 0, 1)))
	want := []string{"2026-10-04 02:35 +11", "2026-10-04 02:40 +11"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("due times = %v, want %v", got, want)
	}
}

func TestWeeklySchedule(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Spec{Every: EveryWeek, At: "02:30", Weekday: "monday", TimeZone: "Europe/Berlin"})
	from := time.Date(2026, time.March, 20, 0, 0, 0, 0, time.UTC) // a Friday
	got := formatAll(dueTimes(t, c, from, from.AddDate(0, 0, 21)))
	want := []string{"2026-03-23 02:30 CET", "2026-03-30 02:30 CEST", "2026-04-06 02:30 CEST"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("due times = %v, want %v", got, want)
	}
	for _, at := range dueTimes(t, c, from, from.AddDate(0, 0, 21)) {
		if at.Weekday() != time.Monday {
			t.Errorf("%s is not a Monday", at)
		}
	}
}

func TestExpressionAndDescription(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec        Spec
		expression  string
		description string
	}{
		{Spec{Every: "day", At: "02:30", TimeZone: "Europe/Berlin"}, "30 2 * * *", "every day at 02:30 (Europe/Berlin)"},
		{Spec{Every: "day", At: "00:00", TimeZone: "UTC"}, "0 0 * * *", "every day at 00:00 (UTC)"},
		{Spec{Every: "week", At: "02:30", Weekday: "monday", TimeZone: "Europe/Berlin"}, "30 2 * * 1", "every week on Monday at 02:30 (Europe/Berlin)"},
		{Spec{Every: "week", At: "23:59", Weekday: "sunday", TimeZone: "America/New_York"}, "59 23 * * 0", "every week on Sunday at 23:59 (America/New_York)"},
		{Spec{Cron: " 30  2 * * *", TimeZone: "Europe/Berlin"}, "30 2 * * *", "cron 30 2 * * * (Europe/Berlin)"},
		{Spec{Cron: "@daily", TimeZone: "Asia/Tokyo"}, "@daily", "cron @daily (Asia/Tokyo)"},
	} {
		c := mustCompile(t, tc.spec)
		if c.Expression() != tc.expression || c.Description() != tc.description {
			t.Errorf("%+v: expression %q, description %q; want %q, %q", tc.spec, c.Expression(), c.Description(), tc.expression, tc.description)
		}
	}
}

func TestInvalidSpecsNameTheirField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec    Spec
		field   string
		message string // a part of it
	}{
		{Spec{TimeZone: "UTC"}, "cron", "either cron"},
		{Spec{Cron: "30 2 * * *", Every: "day", At: "02:30", TimeZone: "UTC"}, "every", "not both"},
		{Spec{Cron: "30 2 * * *", At: "02:30", TimeZone: "UTC"}, "at", "at goes with every"},
		{Spec{Cron: "30 2 * * *", Weekday: "monday", TimeZone: "UTC"}, "weekday", "with cron"},
		{Spec{Cron: "30 2 * *", TimeZone: "UTC"}, "cron", "write 5 fields"},
		{Spec{Cron: "61 2 * * *", TimeZone: "UTC"}, "cron", "write 5 fields"},
		{Spec{Cron: "CRON_TZ=Europe/Berlin 30 2 * * *", TimeZone: "UTC"}, "cron", "set time_zone"},
		{Spec{Cron: "TZ=UTC 30 2 * * *", TimeZone: "UTC"}, "cron", "set time_zone"},
		{Spec{Cron: "@every 1h", TimeZone: "UTC"}, "cron", "not supported"},
		{Spec{Cron: "0 0 30 2 *", TimeZone: "UTC"}, "cron", "never comes due"},
		{Spec{Every: "month", At: "02:30", TimeZone: "UTC"}, "every", `"day" or "week"`},
		{Spec{Every: "day", TimeZone: "UTC"}, "at", "at is required"},
		{Spec{Every: "day", At: "2:5", TimeZone: "UTC"}, "at", `at "2:5" must be a time of day such as 02:00`},
		{Spec{Every: "day", At: "24:00", TimeZone: "UTC"}, "at", "time of day"},
		{Spec{Every: "day", At: "02:30", Weekday: "monday", TimeZone: "UTC"}, "weekday", `only with every "week"`},
		{Spec{Every: "week", At: "02:30", TimeZone: "UTC"}, "weekday", "weekday is required"},
		{Spec{Every: "week", At: "02:30", Weekday: "Mon", TimeZone: "UTC"}, "weekday", "such as monday"},
		{Spec{Every: "day", At: "02:30"}, "time_zone", "time_zone is required"},
		{Spec{Every: "day", At: "02:30", TimeZone: "Europe/Atlantis"}, "time_zone", "not an IANA time zone"},
		{Spec{Every: "day", At: "02:30", TimeZone: "Local"}, "time_zone", "not an IANA time zone"},
	} {
		_, err := tc.spec.Compile()
		var fieldErr *jobtype.FieldError
		if !errors.As(err, &fieldErr) {
			t.Errorf("%+v: error %v, want a field error", tc.spec, err)
			continue
		}
		if fieldErr.Field != tc.field || !strings.Contains(fieldErr.Message, tc.message) {
			t.Errorf("%+v: field %q, message %q; want %q, containing %q", tc.spec, fieldErr.Field, fieldErr.Message, tc.field, tc.message)
		}
	}
}

func TestMissedSince(t *testing.T) {
	t.Parallel()
	daily := mustCompile(t, Spec{Every: EveryDay, At: "02:30", TimeZone: "Europe/Berlin"})
	first := time.Date(2026, time.November, 27, 1, 30, 0, 0, time.UTC)
	now := time.Date(2026, time.November, 30, 9, 0, 0, 0, time.UTC)
	got := daily.MissedSince(first, now, 100)
	if want := (Missed{Count: 4, Latest: time.Date(2026, time.November, 30, 1, 30, 0, 0, time.UTC)}); got != want {
		t.Errorf("daily: %+v, want %+v", got, want)
	}
	if got := daily.MissedSince(first, first.Add(-time.Minute), 100); got != (Missed{}) {
		t.Errorf("before the first due time: %+v, want none", got)
	}
	if got := daily.MissedSince(first, first, 100); got != (Missed{Count: 1, Latest: first}) {
		t.Errorf("at the first due time: %+v, want it alone", got)
	}

	// A year of every minute: counted to the limit, the latest found all the same.
	minutely := mustCompile(t, Spec{Cron: "* * * * *", TimeZone: "Europe/Berlin"})
	start := time.Date(2025, time.November, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, time.November, 1, 12, 34, 56, 0, time.UTC)
	got = minutely.MissedSince(start, end, 50)
	if want := (Missed{Count: 50, More: true, Latest: end.Truncate(time.Minute)}); got != want {
		t.Errorf("minutely: %+v, want %+v", got, want)
	}

	// A weekly schedule six months behind.
	weekly := mustCompile(t, Spec{Every: EveryWeek, At: "02:30", Weekday: "monday", TimeZone: "America/New_York"})
	firstMonday := weekly.Next(time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC))
	got = weekly.MissedSince(firstMonday, time.Date(2026, time.July, 1, 0, 0, 0, 0, time.UTC), 3)
	wantLatest := time.Date(2026, time.June, 29, 6, 30, 0, 0, time.UTC) // 02:30 EDT
	if got.Count != 3 || !got.More || !got.Latest.Equal(wantLatest) {
		t.Errorf("weekly: %+v, want 3 and more, latest %s", got, wantLatest)
	}
}
