package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	// Time zones are part of a schedule's meaning: the binaries carry the
	// zone database rather than trust the host's.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/dainostore/jobs/internal/jobtype"
)

// The simple rhythms a schedule may name instead of a cron expression.
const (
	EveryDay  = "day"
	EveryWeek = "week"
)

// Spec is when a schedule is due, as its owner wrote it: either Cron, a
// 5-field cron expression, or Every with At (and Weekday for a week), in
// TimeZone.
type Spec struct {
	Cron     string `json:"cron,omitempty"`
	Every    string `json:"every,omitempty"`
	At       string `json:"at,omitempty"`
	Weekday  string `json:"weekday,omitempty"`
	TimeZone string `json:"time_zone"`
}

// weekdayNames are the names Weekday accepts, as cron numbers the days.
var weekdayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// clockTime is a 24-hour HH:MM.
var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// Compile checks the spec and returns its due times' calculator. Errors are
// *jobtype.FieldError naming the field to fix.
func (s Spec) Compile() (*Compiled, error) {
	s = Spec{
		// The expression is shown back as the schedule's cron: one space
		// between fields, whatever was sent.
		Cron:  strings.Join(strings.Fields(s.Cron), " "),
		Every: strings.TrimSpace(s.Every), At: strings.TrimSpace(s.At),
		Weekday: strings.TrimSpace(s.Weekday), TimeZone: strings.TrimSpace(s.TimeZone),
	}
	var expression string
	switch {
	case s.Cron != "" && s.Every != "":
		return nil, jobtype.InvalidField("every", "give either cron or every, not both")
	case s.Cron != "":
		if s.At != "" {
			return nil, jobtype.InvalidField("at", `at goes with every; with cron the expression holds the time, such as "30 2 * * *"`)
		}
		if s.Weekday != "" {
			return nil, jobtype.InvalidField("weekday", `weekday goes with every "week"; with cron the expression holds the day, such as "30 2 * * 1" for Mondays`)
		}
		expression = s.Cron
	case s.Every != "":
		var err error
		if expression, err = s.simpleExpression(); err != nil {
			return nil, err
		}
	default:
		return nil, jobtype.InvalidField("cron", `a schedule needs either cron (such as "30 2 * * *") or every ("day" or "week") with at`)
	}
	parsed, err := parseCron(expression)
	if err != nil {
		return nil, err
	}
	loc, err := loadZone(s.TimeZone)
	if err != nil {
		return nil, err
	}
	c := &Compiled{spec: s, expression: expression, cron: parsed, loc: loc}
	// robfig/cron looks five years ahead: an expression with no match in
	// that time (the 30th of February) never comes due.
	if parsed.Next(time.Date(2001, time.January, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, jobtype.InvalidField("cron", "cron %q never comes due: no date matches it", expression)
	}
	return c, nil
}

// parseCron parses a 5-field expression or a descriptor such as @daily. It
// refuses what robfig/cron's standard parser accepts but a schedule must
// not have: a time zone of its own (time_zone is the one place for it) and
// @every, which counts from when a process started, not on the wall clock.
func parseCron(expression string) (cron.Schedule, error) {
	if strings.HasPrefix(expression, "CRON_TZ=") || strings.HasPrefix(expression, "TZ=") {
		return nil, jobtype.InvalidField("cron", `cron %q names a time zone; write the expression alone, such as "30 2 * * *", and set time_zone`, expression)
	}
	if strings.HasPrefix(expression, "@every") {
		return nil, jobtype.InvalidField("cron", `cron %q is not supported: write 5 fields, such as "0 * * * *" for every hour`, expression)
	}
	parsed, err := cron.ParseStandard(expression)
	if err != nil {
		return nil, jobtype.InvalidField("cron", `cron %q is not a cron expression (%v): write 5 fields, minute hour day-of-month month day-of-week, such as "30 2 * * *"`, expression, err)
	}
	return parsed, nil
}

// simpleExpression checks every, at and weekday, and returns the cron
// expression they stand for.
func (s Spec) simpleExpression() (string, error) {
	if s.Every != EveryDay && s.Every != EveryWeek {
		return "", jobtype.InvalidField("every", `every %q must be "day" or "week"; for other rhythms write cron, such as "0 * * * *"`, s.Every)
	}
	if s.At == "" {
		return "", jobtype.InvalidField("at", "at is required with every: a time of day such as 02:00")
	}
	hour, minute, ok := parseClock(s.At)
	if !ok {
		return "", jobtype.InvalidField("at", "at %q must be a time of day such as 02:00 (24-hour HH:MM)", s.At)
	}
	dayOfWeek := "*"
	switch {
	case s.Every == EveryDay && s.Weekday != "":
		return "", jobtype.InvalidField("weekday", `weekday goes only with every "week"`)
	case s.Every == EveryWeek && s.Weekday == "":
		return "", jobtype.InvalidField("weekday", `weekday is required with every "week": a day such as monday`)
	case s.Every == EveryWeek:
		day, ok := parseWeekday(s.Weekday)
		if !ok {
			return "", jobtype.InvalidField("weekday", "weekday %q must be a day such as monday (one of %s)", s.Weekday, strings.Join(weekdayNames[:], ", "))
		}
		dayOfWeek = strconv.Itoa(int(day))
	}
	return fmt.Sprintf("%d %d * * %s", minute, hour, dayOfWeek), nil
}

func parseClock(s string) (hour, minute int, ok bool) {
	m := clockTime.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(m[1])
	minute, _ = strconv.Atoi(m[2])
	return hour, minute, true
}

func parseWeekday(s string) (time.Weekday, bool) {
	for day, name := range weekdayNames {
		if s == name {
			return time.Weekday(day), true
		}
	}
	return 0, false
}

func loadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, jobtype.InvalidField("time_zone", "time_zone is required: an IANA time zone such as Europe/Berlin")
	case "Local":
		// The host's zone: it would change with the machine.
		return nil, jobtype.InvalidField("time_zone", `time_zone "Local" is not an IANA time zone; name one such as Europe/Berlin`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, jobtype.InvalidField("time_zone", "time_zone %q is not an IANA time zone; name one such as Europe/Berlin or America/New_York", name)
	}
	return loc, nil
}

// Compiled is a checked Spec: it tells the schedule's due times.
type Compiled struct {
	spec       Spec
	expression string
	// cron is evaluated on wall-clock times: times whose UTC fields are the
	// zone's clock reading.
	cron cron.Schedule
	loc  *time.Location
}

// Spec is the spec as compiled, its fields trimmed.
func (c *Compiled) Spec() Spec { return c.spec }

// Expression is the cron expression: the one given, or the one every, at
// and weekday stand for ("30 2 * * 1" for every week on Monday at 02:30).
func (c *Compiled) Expression() string { return c.expression }

// Location is the schedule's time zone.
func (c *Compiled) Location() *time.Location { return c.loc }

// Description says when the schedule is due, for people.
func (c *Compiled) Description() string {
	switch c.spec.Every {
	case EveryDay:
		return fmt.Sprintf("every day at %s (%s)", c.spec.At, c.loc)
	case EveryWeek:
		return fmt.Sprintf("every week on %s at %s (%s)", strings.ToUpper(c.spec.Weekday[:1])+c.spec.Weekday[1:], c.spec.At, c.loc)
	}
	return fmt.Sprintf("cron %s (%s)", c.expression, c.loc)
}

const (
	// maxSteps bounds the wall-clock times Next looks at. It skips only
	// those that map to instants not after the one given, which are at most
	// a DST transition's worth (an hour of every-minute times); the bound
	// keeps a pathological zone from looping.
	maxSteps = 10_000
	// transitionProbe is how far either side of a wall-clock time instant
	// looks for the zone offsets around it: more than any offset from UTC,
	// less than the time between two transitions of any zone.
	transitionProbe = 15 * time.Hour
)

// Next returns the first due time after the instant after, or the zero
// time if there is none within five years. Each wall-clock occurrence of
// the expression is due once: one in a DST gap is shifted forward by the
// gap, one in a repeated hour is due at its first occurrence.
func (c *Compiled) Next(after time.Time) time.Time {
	wall := c.startWall(after)
	var best, horizon time.Time
	for range maxSteps {
		wall = c.cron.Next(wall)
		if wall.IsZero() || (!best.IsZero() && !wall.Before(horizon)) {
			break
		}
		at, shift := c.instant(wall)
		if !at.After(after) {
			continue // an occurrence already due: the first of a repeated hour, or a gap's
		}
		if best.IsZero() {
			if shift == 0 {
				return at
			}
			// A gap's occurrence comes later than the wall-clock times just
			// after the gap: look at those too and take the earliest.
			best, horizon = at, wall.Add(shift)
			continue
		}
		if at.Before(best) {
			best = at
		}
	}
	return best
}

// startWall is the wall-clock time from which Next looks for after's
// successor. It is after's own reading, except just past a gap: there the
// reading of the offset before the gap, so the occurrences inside the gap,
// shifted to instants after it, are not passed over.
func (c *Compiled) startWall(after time.Time) time.Time {
	offset := min(c.offset(after), c.offset(after.Add(-24*time.Hour)))
	return after.UTC().Add(offset)
}

// instant maps a wall-clock time to the instant it names in the zone, and
// tells by how much it was shifted forward when the time falls in a gap.
// Of a time the clocks show twice it returns the first.
//
// time.Date does not do for this: it shifts a gap's times forward east of
// Greenwich but back west of it (02:30 on New York's spring night becomes
// 01:30 EST), and chooses either instant of a repeated time.
func (c *Compiled) instant(wall time.Time) (time.Time, time.Duration) {
	before := c.offset(wall.Add(-transitionProbe))
	after := c.offset(wall.Add(transitionProbe))
	// The earlier candidate first: in a repeated hour both are right.
	if early := wall.Add(-before); c.wallClock(early).Equal(wall) {
		return early, 0
	}
	if late := wall.Add(-after); c.wallClock(late).Equal(wall) {
		return late, 0
	}
	// No instant shows this time: it is in the gap between before and
	// after. Read with the offset before the gap, it lands after it.
	return wall.Add(-before), after - before
}

func (c *Compiled) offset(t time.Time) time.Duration {
	_, seconds := t.In(c.loc).Zone()
	return time.Duration(seconds) * time.Second
}

// wallClock is the zone's clock reading at t, as a UTC time.
func (c *Compiled) wallClock(t time.Time) time.Time { return t.UTC().Add(c.offset(t)) }

// Missed is what came due while nobody looked.
type Missed struct {
	// Count is how many due times there were, counted up to a limit.
	Count int
	// More says there were more than Count.
	More bool
	// Latest is the last of them, the one to run; zero if Count is 0.
	Latest time.Time
}

// MissedSince counts the due times from first, itself a due time (a
// schedule's next run), to now, both included, up to limit, and finds the
// latest however many there were: the work grows with the limit, not with
// the length of an outage.
func (c *Compiled) MissedSince(first, now time.Time, limit int) Missed {
	if first.After(now) || limit < 1 {
		return Missed{}
	}
	m := Missed{Count: 1, Latest: first}
	for {
		next := c.Next(m.Latest)
		if next.IsZero() || next.After(now) {
			return m
		}
		if m.Count == limit {
			m.More, m.Latest = true, c.latestUntil(now, next)
			return m
		}
		m.Count++
		m.Latest = next
	}
}

// latestUntil returns the last due time at or before now, given one such
// due time, known. It looks back from now over doubling spans rather than
// forward from known, which may be long ago.
func (c *Compiled) latestUntil(now, known time.Time) time.Time {
	latest := known
	for span := time.Minute; ; span *= 2 {
		start := now.Add(-span)
		if !start.After(known) {
			break // forward from known, then
		}
		if first := c.Next(start); !first.IsZero() && !first.After(now) {
			latest = first
			break
		}
	}
	for range maxSteps {
		next := c.Next(latest)
		if next.IsZero() || next.After(now) {
			break
		}
		latest = next
	}
	return latest
}
