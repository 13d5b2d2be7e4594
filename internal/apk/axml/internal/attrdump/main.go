package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"

	"github.com/dfslab/dfslab/internal/apk/arsc"
)

func main() {
	z, _ := zip.OpenReader(os.Args[1])
	f, _ := z.Open("resources.arsc")
	b, _ := io.ReadAll(f)
	t, err := arsc.Decode(b)
	if err != nil {
		panic(err)
	}
	want := map[string]bool{}
	for _, n := range os.Args[2:] {
		want[n] = true
	}
	for e := range t.All() {
		if e.Type == "attr" && want[e.Key] && e.Config.IsDefault() {
			fmt.Printf("{0x%08x, %q},\n", e.ID, e.Key)
		}
	}
	n := 0
	for e := range t.All() {
		if e.Type == "attr" && e.ID>>16 == 0x0101 {
			n++
		}
	}
	fmt.Println("total attrs", n)
	v, _ := t.Resolve(0x01040000)
	fmt.Println(v)
}
