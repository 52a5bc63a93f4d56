package translation

import "slices"

// Languages are the language codes Amazon Translate translates between,
// any one to any other (https://docs.aws.amazon.com/translate/latest/dg/what-is-languages.html):
// ISO 639-1 codes, and RFC 5646 ones for a country's variant (es-MX).
var Languages = []string{
	"af", "am", "ar", "az", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "es-MX",
	"et", "fa", "fa-AF", "fi", "fr", "fr-CA", "ga", "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy", "id",
	"is", "it", "ja", "ka", "kk", "kn", "ko", "lt", "lv", "mk", "ml", "mn", "mr", "ms", "mt", "nl",
	"no", "pa", "pl", "ps", "pt", "pt-PT", "ro", "ru", "si", "sk", "sl", "so", "sq", "sr", "sv", "sw",
	"ta", "te", "th", "tl", "tr", "uk", "ur", "uz", "vi", "zh", "zh-TW",
}

// Supported reports whether Translate translates to and from code, spelled
// as its list spells it (es-MX, not es-mx or es_MX).
func Supported(code string) bool { return slices.Contains(Languages, code) }
