package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// rosterColumns are the columns a generated roster writes, in this order.
var rosterColumns = []string{"external_id", "first_name", "last_name", "country", "preferred_language",
	"authentication_type", "authentication_id", "business_email", "private_email",
	"business_mobile_phone", "private_mobile_phone", "manager", "default_site",
	"department_en", "department_nl", "department_fr", "job_title_en", "job_title_de",
	"tags_en", "tags_nl", "tags_fr", "archived_at"}

// genRoster is a roster made up by a seeded generator: what an HR system
// sends, in the shapes it sends it (ids with leading zeros, accented names,
// every phone notation, several languages, leavers past and future), and
// managers who leave: some archived by the file's archived_at, some left
// out of a later roster (dropped).
type genRoster struct {
	rows    [][]string // in rosterColumns order, file order
	dropped map[int]bool
}

func genUsers(rnd *rand.Rand) *genRoster {
	first := []string{"Anne-Sophie", "Zoë", "José", "Łukasz", "Søren", "Chloé", "Jürgen", "Ana María", "Ngozi", "Åsa", "李", "O'Neil"}
	last := []string{"Müller", "Dupont", "van den Berg", "Nowak", "Ørsted", "García López", "Smith", "D'Hondt", "Çelik", "王"}
	depts := [][3]string{{"Sales", "Verkoop", "Ventes"}, {"R&D; \"Lab\"", "O&O; \"Lab\"", "R&D ; « Labo »"},
		{"Finance, North", "Financiën, Noord", "Finances, Nord"}, {"=Ops", "=Ops", "=Opérations"}, {"", "Onderhoud", ""},
		{"Plant 2\nnight shift", "Fabriek 2\nnachtploeg", ""}}
	titles := [][2]string{{"Engineer", "Ingenieur"}, {"Nurse", "Krankenschwester"}, {"Head of Ops", ""}, {"", "Fahrer"}}
	tags := [][3]string{{"t1:Blue", "t1:Blauw", "t1:Bleu"}, {"t2:Night", "t2:Nacht", "t2:Nuit"}, {"t3:Green", "t3:Groen", "t3:Vért"}}
	n := 30 + rnd.Intn(20)
	g := &genRoster{dropped: map[int]bool{}}
	ids := make([]string, n)
	for i := range n {
		switch i % 3 {
		case 0:
			ids[i] = fmt.Sprintf("E%d", 100+i)
		case 1:
			ids[i] = fmt.Sprintf("%07d", 4500+i) // leading zeros
		default:
			ids[i] = fmt.Sprintf("B%06d", i)
		}
	}
	reports := map[int]int{}
	for i := range n {
		country, lang := "BE", []string{"nl", "fr-be", "EN", "de"}[rnd.Intn(4)]
		if rnd.Intn(5) == 0 {
			country, lang = "nl", "NL-be"
		}
		phone := func() string {
			d := 10 + rnd.Intn(90)
			if country == "nl" && rnd.Intn(2) == 0 {
				return fmt.Sprintf("06-1234 56%02d", d) // national, read in the row's country
			}
			switch rnd.Intn(7) {
			case 0:
				return fmt.Sprintf("+32 470 12 34 %02d", d)
			case 1:
				return fmt.Sprintf("0032.470.12.34.%02d", d)
			case 2:
				return fmt.Sprintf("0032-470-12-34-%02d", d)
			case 3:
				if country == "BE" {
					return fmt.Sprintf("(0470) 12 34 %02d", d) // national
				}
				return fmt.Sprintf("+32 (470) 12 34 %02d", d)
			case 4:
				return fmt.Sprintf("49151234567%02d", d) // a spreadsheet lost its +
			case 5:
				return ""
			default:
				return fmt.Sprintf("+31 6 1234 56%02d", d)
			}
		}
		auth, authID := "", ""
		switch rnd.Intn(4) {
		case 0:
			auth, authID = "company_account", fmt.Sprintf("u%d@Corp.Example", i)
		case 1:
			auth = "username_password"
		}
		manager := ""
		if i > 0 && rnd.Intn(4) != 0 {
			m := rnd.Intn(i)
			manager = ids[m]
			reports[m]++
		}
		d, t := depts[rnd.Intn(len(depts))], titles[rnd.Intn(len(titles))]
		var tg [3]string
		for _, tag := range tags {
			if rnd.Intn(2) == 0 {
				for l := range tg {
					if tg[l] != "" {
						tg[l] += ","
					}
					tg[l] += tag[l]
				}
			}
		}
		archivedAt := ""
		switch rnd.Intn(10) {
		case 0:
			archivedAt = []string{"2025-03-01", "2025-06-30 17:30:00"}[rnd.Intn(2)] // left
		case 1:
			archivedAt = []string{"2027-01-31", "2026-12-31 18:00:00"}[rnd.Intn(2)] // leaves later
		}
		private := ""
		if rnd.Intn(2) == 0 {
			private = fmt.Sprintf("Private.%d@Mail.Example", i)
		}
		g.rows = append(g.rows, []string{ids[i], first[rnd.Intn(len(first))], last[rnd.Intn(len(last))], country, lang,
			auth, authID, fmt.Sprintf("User.%d@Example.COM", i), private, phone(), phone(), manager,
			[]string{"", "Gent – HQ", "Lyon; site 2"}[rnd.Intn(3)],
			d[0], d[1], d[2], t[0], t[1], tg[0], tg[1], tg[2], archivedAt})
	}
	// A manager or two leave by being left out of the next roster.
	for m, n := range reports {
		if n > 0 && g.rows[m][len(rosterColumns)-1] == "" && len(g.dropped) < 2 {
			g.dropped[m] = true
		}
	}
	return g
}

// tagged picks a user the roster gives tags in several languages, and
// another user, both active with no leaving date.
func (g *genRoster) tagged(rnd *rand.Rand) (tagged, other string) {
	tagsEN := slices.Index(rosterColumns, "tags_en")
	for _, i := range rnd.Perm(len(g.rows)) {
		switch {
		case g.dropped[i] || g.rows[i][len(rosterColumns)-1] != "": // left, or leaving
		case tagged == "" && g.rows[i][tagsEN] != "":
			tagged = g.rows[i][0]
		case other == "":
			other = g.rows[i][0]
		}
	}
	return tagged, other
}

// csv renders the roster, without the dropped users when drop is set.
func (g *genRoster) csv(drop bool) string {
	var b strings.Builder
	b.WriteString(strings.Join(rosterColumns, ";") + "\n")
	for i, r := range g.rows {
		if drop && g.dropped[i] {
			continue
		}
		cells := make([]string, len(r))
		for k, c := range r {
			if strings.ContainsAny(c, ";\"\n") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			cells[k] = c
		}
		b.WriteString(strings.Join(cells, ";") + "\n")
	}
	return b.String()
}

// TestExportReimportsAsItIs: the roster export (SPEC §5.4) re-imported as a
// full roster changes nothing — every row unchanged, no user written — and
// exports again byte for byte the same, for generated rosters with managers
// who left (by archived_at, or left out of a roster in the hour summer time
// ends), leavers with a future archived_at, fields and tags in several
// languages, ids with leading zeros and every phone notation. (The export
// may start with a BOM: the reader takes one.)
func TestExportReimportsAsItIs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := importertest.NewService(t, db, importer.ServiceConfig{})
		base := newEnv(t, db)
		for seed := int64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
				e := *base
				e.t = t
				// One organisation per seed, in a zone with summer time,
				// never held (what is tested is the round trip).
				org := store.NewOrg(fmt.Sprintf("rt%d", seed), "Round trip")
				org.DefaultPhoneRegion, org.TimeZone, org.ArchiveThresholdMin = "BE", "Europe/Brussels", 1000
				if err := store.OrgCreate(ctx, db, &org); err != nil {
					t.Fatal(err)
				}
				e.org = &org
				rnd := rand.New(rand.NewSource(seed))
				g := genUsers(rnd)

				if im := e.importFile(importer.ModeFull, g.csv(false)); im.Failed != 0 || im.Status != store.ImportSucceeded {
					t.Fatalf("first roster: %s %+v %s\n%s", im.Status, im.Counts, im.Error, e.errorsCSV(im))
				}
				// The managers leave in the hour Brussels lives twice (02:30
				// in summer time, an hour before 02:30 in winter time): a
				// sync at the default schedule, 02:00, runs in it once a year.
				e.now = time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)
				im := e.importFile(importer.ModeFull, g.csv(true))
				if im.Failed != 0 || im.Status != store.ImportSucceeded || im.Archived != len(g.dropped) {
					t.Fatalf("roster without %d managers: %s %+v %s\n%s", len(g.dropped), im.Status, im.Counts, im.Error, e.errorsCSV(im))
				}

				export := func() string {
					var b bytes.Buffer
					if err := svc.UserExport(ctx, importer.UserExportParams{OrgID: e.org.ID}, &b); err != nil {
						t.Fatal(err)
					}
					return b.String()
				}
				e.now = base.now
				// A back-office upload that sets one language of a user's
				// tags would leave their languages with other ids, which
				// no file could say again: that row fails, the other applies.
				tagged, other := g.tagged(rnd)
				im = e.importFile(importer.ModePartial, "external_id;tags_en;department_nl\n"+
					tagged+";t9:Purple;\n"+other+";;Nieuwe afdeling\n")
				if im.Failed != 1 || im.Updated != 1 || !strings.Contains(e.errorsCSV(im), "every language of a user's tags lists the same ids") {
					t.Fatalf("partial upload of tags_en alone: %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
				}
				before, users := export(), e.allUsers()
				again := e.importFile(importer.ModeFull, before)
				n := strings.Count(users, "\n") // one line a user (values are %q-quoted)
				want := store.Counts{Rows: n, Unchanged: n}
				if again.Status != store.ImportSucceeded || again.Counts != want {
					t.Errorf("the export re-imported: %s %+v, want every row unchanged %+v %s\n%s\nexport:\n%s",
						again.Status, again.Counts, want, again.Error, e.errorsCSV(again), before)
				}
				for id := range g.dropped {
					if w := fmt.Sprintf(`manager %q is archived; `, g.rows[id][0]); !strings.Contains(strings.Join(again.Warnings(), "\n"), w) {
						t.Errorf("the re-import's warnings %q do not name %s", again.Warnings(), w)
					}
				}
				if after := e.allUsers(); after != users {
					t.Errorf("the export re-imported changed users:\n%s\nwant:\n%s", after, users)
				}
				if after := export(); after != before {
					t.Errorf("the export after the re-import differs:\n%s\nwant:\n%s", after, before)
				}
			})
		}
	})
}

// allUsers renders every user of the organisation with every stored field,
// status, dates and row hash, one line each.
func (e *env) allUsers() string {
	e.t.Helper()
	users, err := store.UserList(context.Background(), e.db, store.UserListParams{OrgID: e.org.ID, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "%s %s %s %q %q %s %s %s\n", u.ExternalID, u.Status, at(u.ArchivedAt), u.Plain, u.Localized,
			u.FieldsHash, at(&u.CreatedAt), at(&u.UpdatedAt))
	}
	return b.String()
}
