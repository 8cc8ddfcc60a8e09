package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

// org is one organisation the driver sends to: HTTP uploads go to http
// organisations (partial imports), SFTP puts to sftp ones (on_upload: each
// file is a full sync). Both doors' imports are followed with the token.
type org struct {
	door     string // "http" or "sftp"
	slug     string
	token    string
	user     string // SFTP login (sftp organisations)
	password string
}

// readOrgs reads the organisations file run.sh writes.
func readOrgs(path string) ([]org, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	defer f.Close()
	var orgs []org
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		w := strings.Fields(sc.Text())
		switch {
		case len(w) == 0:
			continue
		case len(w) == 3 && w[0] == "http":
			orgs = append(orgs, org{door: w[0], slug: w[1], token: w[2]})
		case len(w) == 5 && w[0] == "sftp":
			orgs = append(orgs, org{door: w[0], slug: w[1], token: w[2], user: w[3], password: w[4]})
		default:
			return nil, fmt.Errorf("%s:%d: expected \"http SLUG TOKEN\" or \"sftp SLUG TOKEN USER PASSWORD\"", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	return orgs, nil
}

// file is one roster the driver sends, under a name unique in the run: the
// import's file_name, which is how its import is found again.
type file struct {
	org  *org
	name string
	rows int
	bad  int // rows made to fail
	body []byte
}

// session is one SFTP connection putting its files one after the other.
type session struct {
	n     int
	org   *org
	addr  string
	files []*file
}

// upload is one HTTP upload.
type upload struct {
	n    int
	addr string
	file *file
}

// plan is everything the run sends, made before the clock starts so that
// generating files is not timed.
type plan struct {
	uploads  []upload
	sessions []session
}

func (pl *plan) sftpFiles() int {
	n := 0
	for _, s := range pl.sessions {
		n += len(s.files)
	}
	return n
}

// makePlan spreads the uploads over the http organisations and the daemons,
// the sessions over the sftp organisations and the daemons (round robin),
// and makes each file.
func makePlan(p params, orgs []org) (*plan, error) {
	var httpOrgs, sftpOrgs []*org
	for i := range orgs {
		if orgs[i].door == "http" {
			httpOrgs = append(httpOrgs, &orgs[i])
		} else {
			sftpOrgs = append(sftpOrgs, &orgs[i])
		}
	}
	if p.httpUploads > 0 && len(httpOrgs) == 0 {
		return nil, fmt.Errorf("%s lists no http organisation", p.orgsFile)
	}
	if p.sftpSessions > 0 && len(sftpOrgs) == 0 {
		return nil, fmt.Errorf("%s lists no sftp organisation", p.orgsFile)
	}
	rng := rand.New(rand.NewPCG(uint64(p.seed), 0x10ad))
	nfile := 0
	newFile := func(o *org, name string, full bool) *file {
		nfile++
		rows := p.minRows + rng.IntN(p.maxRows-p.minRows+1)
		bad := p.badEvery > 0 && nfile%p.badEvery == 0
		f := &file{org: o, name: name, rows: rows}
		f.body, f.bad = roster(rng, o.slug, rows, full, bad)
		return f
	}
	pl := &plan{}
	for i := range p.httpUploads {
		o := httpOrgs[i%len(httpOrgs)]
		pl.uploads = append(pl.uploads, upload{n: i, addr: p.httpAddrs[i%len(p.httpAddrs)],
			file: newFile(o, fmt.Sprintf("http-%03d.csv", i), false)})
	}
	for i := range p.sftpSessions {
		o := sftpOrgs[i%len(sftpOrgs)]
		s := session{n: i, org: o, addr: p.sftpAddrs[i%len(p.sftpAddrs)]}
		for j := range p.filesPerSession {
			s.files = append(s.files, newFile(o, fmt.Sprintf("sftp-%03d-%d.csv", i, j), true))
		}
		pl.sessions = append(pl.sessions, s)
	}
	return pl, nil
}

// roster writes a CSV of rows users. A partial (HTTP) file takes a run of
// ids from a pool of 2,000 at a random place, so uploads to one organisation
// overlap: some rows create users, others update or leave them unchanged. A
// full (SFTP) file is ids 1..rows, so successive syncs archive and restore
// the tail. A bad file has one row in ten with an unknown country (a row
// error; the rest is applied); it returns how many.
func roster(rng *rand.Rand, slug string, rows int, full, bad bool) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;department_en\n")
	first := 1
	if !full {
		first = 1 + rng.IntN(2000-rows+1)
	}
	dept := []string{"Sales", "Support", "Finance"}[rng.IntN(3)]
	nbad := 0
	for i := first; i < first+rows; i++ {
		country := "BE"
		if bad && (i-first)%10 == 9 {
			country, nbad = "XX", nbad+1
		}
		fmt.Fprintf(&b, "E%05d;First%d;Last%d;%s;nl;u%d@%s.example;+32 470 %02d %02d %02d;%s\n",
			i, i, i, country, i, slug, (i/10000)%100, (i/100)%100, i%100, dept)
	}
	return b.Bytes(), nbad
}
