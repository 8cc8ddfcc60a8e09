package importer_test

import (
	"flag"
	"os"
	"testing"

	"rosterd/store/storetest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	storetest.ParallelUnderShort(4)
	os.Exit(storetest.Main(m))
}
