package akeneo

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/dainostore/jobs/internal/marketplace"
)

// DownloadMedia GETs a media file by its download link, the SourceURL of a
// product's Image. It returns the file's content and its type. The download
// counts among the calls in flight until the body is closed, so the caller
// must close it, and should not sit on it.
//
// A file Akeneo no longer has is a *marketplace.PermanentError with Status
// 404.
func (c *Client) DownloadMedia(ctx context.Context, href string) (io.ReadCloser, string, error) {
	if err := c.checkOrigin(href); err != nil {
		return nil, "", err
	}
	resp, release, err := c.get(ctx, href, "*/*")
	if err != nil {
		return nil, "", fmt.Errorf("download media: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer release()
		return nil, "", fmt.Errorf("download media: %w", c.statusError(resp, errorMessage(resp)))
	}
	if resp.ContentLength > MaxMediaBytes {
		release()
		return nil, "", fmt.Errorf("download media: %w", tooLarge(resp.ContentLength))
	}
	return &mediaBody{body: resp.Body, left: MaxMediaBytes, release: release}, resp.Header.Get("Content-Type"), nil
}

// mediaBody is a media file's content: it fails once the file is larger
// than MaxMediaBytes rather than end early, and closing it frees the call's
// place.
type mediaBody struct {
	body    io.Reader
	left    int64
	release func()
}

func (m *mediaBody) Read(p []byte) (int, error) {
	if m.left <= 0 {
		// Probe for one more byte: a file of exactly the limit is fine.
		var probe [1]byte
		switch _, err := io.ReadFull(m.body, probe[:]); err {
		case nil:
			return 0, tooLarge(-1)
		case io.EOF:
			return 0, io.EOF
		default:
			return 0, err
		}
	}
	if int64(len(p)) > m.left {
		p = p[:m.left]
	}
	n, err := m.body.Read(p)
	m.left -= int64(n)
	return n, err
}

// tooLarge is the error of a media file above MaxMediaBytes; size is -1
// when only the reading found out.
func tooLarge(size int64) error {
	reason := fmt.Sprintf("media file larger than %d bytes", MaxMediaBytes)
	if size >= 0 {
		reason = fmt.Sprintf("media file of %d bytes, larger than %d", size, MaxMediaBytes)
	}
	return &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Status: http.StatusOK, Reason: reason}
}

func (m *mediaBody) Close() error {
	m.release()
	return nil
}
