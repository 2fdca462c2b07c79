package main

import (
	"strings"
	"testing"
)

func TestGreetingNamesThePerson(t *testing.T) {
	if got := Greeting("Ada"); !strings.HasPrefix(got, "Hello, Ada, from go") {
		t.Fatalf("Greeting(\"Ada\") = %q", got)
	}
}
