package secret

import "testing"

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		values []string
		want   string
	}{
		{"no values", "login failed", nil, "login failed"},
		{"no occurrence", "login failed", []string{"hunter22"}, "login failed"},
		{"every occurrence", "hunter22 != hunter22!", []string{"hunter22"}, "[redacted] != [redacted]!"},
		{"empty value ignored", "abc", []string{""}, "abc"},
		{"empty text", "", []string{"abcd"}, ""},
		{
			name:   "a value inside a longer one",
			text:   "token Atzr|abcd-1234 and abcd",
			values: []string{"abcd", "Atzr|abcd-1234"},
			want:   "token [redacted] and [redacted]",
		},
		{
			name:   "the longer value wins whatever the order",
			text:   "key=secret-value-1",
			values: []string{"secret-value-1", "value"},
			want:   "key=[redacted]",
		},
		{
			name:   "overlapping values are hidden whole",
			text:   "xx abcdef yy",
			values: []string{"abcd", "cdef"},
			want:   "xx [redacted] yy",
		},
		{
			name:   "a chain of overlaps",
			text:   "1234567890",
			values: []string{"7890", "1234", "3456", "5678"},
			want:   "[redacted]",
		},
		{
			name:   "a value overlapping itself",
			text:   "aaaaaaa!",
			values: []string{"aaaa"},
			want:   "[redacted]!",
		},
		{
			name:   "adjacent occurrences stay separate",
			text:   "abcdwxyz",
			values: []string{"abcd", "wxyz"},
			want:   "[redacted][redacted]",
		},
		{
			name:   "a value that is part of the placeholder",
			text:   "dact: hunter22",
			values: []string{"dact", "hunter22"},
			want:   "[redacted]: [redacted]",
		},
		{
			name:   "duplicate values",
			text:   "pw hunter22",
			values: []string{"hunter22", "hunter22"},
			want:   "pw [redacted]",
		},
		{
			name:   "multi-byte text",
			text:   "clé: sécrèt€ fin",
			values: []string{"sécrèt€"},
			want:   "clé: [redacted] fin",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Scrub(tt.text, tt.values); got != tt.want {
				t.Errorf("Scrub(%q, %q) = %q, want %q", tt.text, tt.values, got, tt.want)
			}
		})
	}
}
