// A small web app on Go's standard library: `go run .` serves it on port 8080.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"runtime"
)

const port = 8080

// Greeting is the text the page shows.
func Greeting(name string) string {
	return fmt.Sprintf("Hello, %s, from %s!", name, runtime.Version())
}

func main() {
	http.HandleFunc("/api/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": Greeting("API")})
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Go starter</title><h1>%s</h1>", Greeting("world"))
	})
	log.Printf("Serving on port %d: open it from the Ports panel", port)
	log.Fatal(http.ListenAndServe(fmt.Sprintf(":%d", port), nil))
}
