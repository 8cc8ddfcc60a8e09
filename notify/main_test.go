package notify_test

import (
	"os"
	"testing"

	"rosterd/store/storetest"
)

// TestMain drops the PostgreSQL copies storetest kept for reuse when the
// tests end.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
