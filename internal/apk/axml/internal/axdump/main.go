package main

import (
	"fmt"
	"os"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

func main() {
	for _, f := range os.Args[1:] {
		b, _ := os.ReadFile(f)
		d, err := axml.DecodeDocument(b)
		if err != nil {
			fmt.Println(f, "ERR", err)
			continue
		}
		fmt.Println("==", f, d.Anomalies)
		s := d.Root.String()
		if len(s) > 1500 {
			s = s[:1500]
		}
		fmt.Println(s)
	}
}
