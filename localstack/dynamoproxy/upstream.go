package dynamoproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// call sends one DynamoDB operation to dynalite and decodes a successful
// answer into out (if not nil). A DynamoDB error answer is returned as
// *apiError, unchanged; anything else (transport, decoding) as a plain error.
func (p *Proxy) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.upstream.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := p.now().UTC()
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	// dynalite checks that a SigV4 header is present and well formed, not the
	// signature itself.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+now.Format("20060102")+
		"/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s upstream: %w", op, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s upstream: read answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &apiError{status: resp.StatusCode, body: respBody}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(respBody, out); err != nil {
		return fmt.Errorf("%s upstream: decode answer: %w", op, err)
	}
	return nil
}
