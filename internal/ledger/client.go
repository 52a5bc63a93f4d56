package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	defaultTimeout = 30 * time.Second
	// maxAnswerBytes bounds what is read of an answer: the ledger's answers
	// are a few hundred bytes.
	maxAnswerBytes = 1 << 20
	// maxMessageBytes bounds the text of an answer that is not the
	// protocol's JSON, quoted in an error.
	maxMessageBytes = 512
	// maxRetryAfter bounds the ledger's Retry-After: a hint beyond a day is
	// a mistake, not a plan.
	maxRetryAfter = 24 * time.Hour
)

// defaultHTTP serves the clients that set no HTTP client.
var defaultHTTP = &http.Client{Timeout: defaultTimeout}

// Client calls the credits ledger. Its fields are set once; it is then
// safe for concurrent use.
type Client struct {
	// URL is the ledger's base URL (JOBS_CREDITS_LEDGER_URL): the daily
	// deduction's endpoint, under which /debits and /balances are.
	URL string
	// Token authenticates the service (JOBS_CREDITS_LEDGER_TOKEN).
	Token string
	// HTTP sends the requests; nil means a client with a 30-second timeout.
	HTTP *http.Client
}

// Debit is a charge of one store for one piece of work.
type Debit struct {
	StoreID string
	Credits int64 // above 0
	// Reason says what the credits paid for ("ai_text"); Reference points
	// at the work (a job and item). The ledger keeps both with the debit.
	Reason, Reference string
	// IdempotencyKey names the charge: sending the same debit again with
	// the same key, after a lost answer or a crash, charges it once. Derive
	// it from the work (job id and item), never from the attempt.
	IdempotencyKey string
}

func (d Debit) validate() error {
	switch {
	case strings.TrimSpace(d.StoreID) == "":
		return fmt.Errorf("%w: a debit needs a store", ErrInvalidRequest)
	case d.Credits <= 0:
		return fmt.Errorf("%w: a debit of %d credits (it must be above 0)", ErrInvalidRequest, d.Credits)
	case strings.TrimSpace(d.IdempotencyKey) == "":
		return fmt.Errorf("%w: a debit needs an Idempotency-Key", ErrInvalidRequest)
	}
	return nil
}

// DebitResult is the ledger's answer to a debit.
type DebitResult struct {
	DebitID string
	// Balance is the store's balance right after the debit (for a replay,
	// as the first answer gave it).
	Balance int64
	// Replayed is true when the key had already charged the debit: this
	// answer is the first one again, and nothing more was charged.
	Replayed bool
}

// DeductionPage is the ledger's answer to one page of a day's deduction.
type DeductionPage struct {
	StoresCharged   int
	CreditsDeducted int64
	StoresTotal     int
	// NextCursor is where the next page starts; empty when the day is done.
	NextCursor string
}

type debitRequest struct {
	StoreID   string `json:"store_id"`
	Credits   int64  `json:"credits"`
	Reason    string `json:"reason"`
	Reference string `json:"reference"`
}

type debitAnswer struct {
	DebitID  string `json:"debit_id"`
	StoreID  string `json:"store_id"`
	Credits  int64  `json:"credits"`
	Balance  int64  `json:"balance"`
	Replayed bool   `json:"replayed"`
}

type balanceAnswer struct {
	StoreID string `json:"store_id"`
	Balance int64  `json:"balance"`
}

type deductionRequest struct {
	Date   string `json:"date"`
	Cursor string `json:"cursor"`
}

type deductionAnswer struct {
	StoresCharged   int    `json:"stores_charged"`
	CreditsDeducted int64  `json:"credits_deducted"`
	StoresTotal     int    `json:"stores_total"`
	NextCursor      string `json:"next_cursor"`
}

// Debit charges d.Credits to d.StoreID, once per d.IdempotencyKey. A
// balance below d.Credits is an *InsufficientCreditsError and charges
// nothing.
func (c *Client) Debit(ctx context.Context, d Debit) (DebitResult, error) {
	if err := d.validate(); err != nil {
		return DebitResult{}, err
	}
	result, err := c.debit(ctx, d)
	if err != nil {
		var insufficient *InsufficientCreditsError
		if errors.As(err, &insufficient) {
			insufficient.StoreID = d.StoreID
			if insufficient.Needed == 0 { // a ledger that did not say
				insufficient.Needed = d.Credits
			}
		}
		return DebitResult{}, fmt.Errorf("debit %d credits from store %s: %w", d.Credits, d.StoreID, err)
	}
	return result, nil
}

func (c *Client) debit(ctx context.Context, d Debit) (DebitResult, error) {
	target, err := c.endpoint("debits")
	if err != nil {
		return DebitResult{}, err
	}
	var answer debitAnswer
	body := debitRequest{StoreID: d.StoreID, Credits: d.Credits, Reason: d.Reason, Reference: d.Reference}
	if err := c.call(ctx, http.MethodPost, target, d.IdempotencyKey, body, &answer); err != nil {
		return DebitResult{}, err
	}
	if answer.DebitID == "" {
		// Without the ledger's id nothing says the store was charged.
		return DebitResult{}, errors.New("the credits ledger's answer has no debit_id")
	}
	return DebitResult{DebitID: answer.DebitID, Balance: answer.Balance, Replayed: answer.Replayed}, nil
}

// Balance returns the store's balance of credits; 0 for a store the ledger
// does not know.
func (c *Client) Balance(ctx context.Context, storeID string) (int64, error) {
	if strings.TrimSpace(storeID) == "" {
		return 0, fmt.Errorf("%w: a balance needs a store", ErrInvalidRequest)
	}
	target, err := c.endpoint("balances", storeID)
	if err != nil {
		return 0, err
	}
	var answer balanceAnswer
	if err := c.call(ctx, http.MethodGet, target, "", nil, &answer); err != nil {
		return 0, fmt.Errorf("balance of store %s: %w", storeID, err)
	}
	return answer.Balance, nil
}

// DeductDay asks the ledger for the page of date's deduction (YYYY-MM-DD,
// UTC) that starts at cursor ("" for the first). The page's Idempotency-Key
// is daily-credit-deduction:<date>:<cursor>, so asking for a page again
// replays it instead of charging it twice.
func (c *Client) DeductDay(ctx context.Context, date, cursor string) (DeductionPage, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return DeductionPage{}, fmt.Errorf("%w: date %q is not a day such as 2026-11-29", ErrInvalidRequest, date)
	}
	target, err := c.endpoint()
	if err != nil {
		return DeductionPage{}, err
	}
	var answer deductionAnswer
	key := "daily-credit-deduction:" + date + ":" + cursor
	if err := c.call(ctx, http.MethodPost, target, key, deductionRequest{Date: date, Cursor: cursor}, &answer); err != nil {
		return DeductionPage{}, fmt.Errorf("deduct %s from cursor %q: %w", date, cursor, err)
	}
	return DeductionPage(answer), nil
}

// endpoint is the URL of the path segments under the ledger's URL; without
// segments, the URL itself, as configured.
func (c *Client) endpoint(segments ...string) (string, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: the ledger URL %q is not an http(s) URL", ErrInvalidRequest, c.URL)
	}
	if len(segments) == 0 {
		return c.URL, nil
	}
	path, rawPath := strings.TrimRight(u.Path, "/"), strings.TrimRight(u.EscapedPath(), "/")
	for _, segment := range segments {
		path += "/" + segment
		rawPath += "/" + url.PathEscape(segment) // a store id may hold a slash
	}
	u.Path, u.RawPath = path, rawPath
	return u.String(), nil
}

// call sends one request and decodes a 2xx answer's JSON into out. Every
// other answer is one of the package's errors or a transient error.
func (c *Client) call(ctx context.Context, method, target, idempotencyKey string, body, out any) error {
	var payload io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
		payload = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, payload)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	client := c.HTTP
	if client == nil {
		client = defaultHTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("credits ledger unreachable: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("read the credits ledger's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(resp, data)
	}
	if len(data) > maxAnswerBytes {
		return fmt.Errorf("the credits ledger's answer is over %d bytes", maxAnswerBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the credits ledger's answer is not the expected JSON: %w", err)
	}
	return nil
}

// errorAnswer is the body of the ledger's error answers.
type errorAnswer struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	// Balance and Needed come with insufficient_credits.
	Balance int64 `json:"balance"`
	Needed  int64 `json:"needed"`
}

// answerError says what an unsuccessful answer means.
func answerError(resp *http.Response, data []byte) error {
	var body errorAnswer
	if json.Unmarshal(data, &body) != nil {
		body = errorAnswer{} // not the protocol's body: quote its text
	}
	message := body.Message
	if message == "" {
		message = body.Error
	}
	if message == "" {
		message = strings.TrimSpace(strings.ToValidUTF8(string(data[:min(len(data), maxMessageBytes)]), ""))
	}
	if message == "" {
		message = http.StatusText(resp.StatusCode)
	}
	switch status := resp.StatusCode; {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return &UnavailableError{Status: status, RetryAfter: retryAfter(resp.Header, time.Now()), Message: message}
	case status == http.StatusPaymentRequired && body.Error == CodeInsufficientCredits:
		return &InsufficientCreditsError{Balance: body.Balance, Needed: body.Needed}
	case status >= 400 && status < 500:
		return &RefusedError{Status: status, Code: body.Error, Message: message}
	default:
		return fmt.Errorf("credits ledger answered HTTP %d: %s", status, message)
	}
}

// retryAfter reads a Retry-After header in either of its forms (seconds,
// or an HTTP date), at most maxRetryAfter; 0 when there is none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	value := strings.TrimSpace(h.Get("Retry-After"))
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return time.Duration(min(seconds, int(maxRetryAfter/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		return min(max(at.Sub(now), 0), maxRetryAfter)
	}
	return 0
}
