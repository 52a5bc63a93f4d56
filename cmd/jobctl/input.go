package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// readObject reads a flag that holds a JSON object: the JSON itself,
// @file for a file's content, or @- for standard input, as curl's -d does.
// It is checked here, so a typo is pointed at before anything is sent.
func (c *cli) readObject(flag, value string) (json.RawMessage, error) {
	data := []byte(value)
	var err error
	switch {
	case value == "@-":
		data, err = io.ReadAll(c.stdin)
	case strings.HasPrefix(value, "@"):
		data, err = os.ReadFile(value[1:])
	}
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flag, value, err)
	}
	data = bytes.TrimSpace(data)
	var object map[string]json.RawMessage
	if err := json.Unmarshal(data, &object); err != nil || object == nil {
		if err == nil {
			err = fmt.Errorf("it is null")
		}
		return nil, fmt.Errorf("--%s must be a JSON object, such as '{\"steps\": 10}': %v", flag, err)
	}
	return data, nil
}
