package layers_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"rosterd/layers"
	"rosterd/layers/layerstest"
)

// BenchmarkPeel reads a 100,000-row roster as it is, gzipped, and gzipped
// then PGP-encrypted to an organisation key (what an HR system sends):
// the layers' cost per roster, next to the import's own.
func BenchmarkPeel(b *testing.B) {
	var csv bytes.Buffer
	csv.WriteString("external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;department_en\n")
	for i := 1; i <= 100_000; i++ {
		fmt.Fprintf(&csv, "E%06d;First%d;Last%d;BE;nl;user%d@example.com;+32 470 %02d %02d %02d;Sales\n", i, i, i, i, (i/10000)%100, (i/100)%100, i%100)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(csv.Bytes())
	w.Close()
	key, err := layers.NewKey("Acme", "rosters@acme.example", layerstest.KeyBits)
	if err != nil {
		b.Fatal(err)
	}
	var enc bytes.Buffer
	pw, err := openpgp.Encrypt(&enc, openpgp.EntityList{key}, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	pw.Write(gz.Bytes())
	pw.Close()
	opts := layers.Options{MaxBytes: 200 << 20, Keys: &layers.Keys{Decrypt: openpgp.EntityList{key}}}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"csv", csv.Bytes()}, {"csv.gz", gz.Bytes()}, {"csv.gz.pgp", enc.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(csv.Len()))
			b.ReportAllocs()
			for b.Loop() {
				f, err := layers.Open(bytes.NewReader(tc.data), "roster."+tc.name, opts)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, f); err != nil || n != int64(csv.Len()) {
					b.Fatalf("read %d, %v", n, err)
				}
			}
		})
	}
}
