package database

import "strings"

// NonEmpty is a nullable text parameter that is NULL (nil) for "".
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EscapeLike escapes LIKE/ILIKE wildcards (and the escape character) in s, for a substring
// search of user input.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
