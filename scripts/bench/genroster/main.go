// Command genroster writes a synthetic full roster for benchmarks: N users
// with every common column filled, managers forming a shallow tree, and a
// -change percentage of rows altered so a re-sync has work to do.
//
// The values vary as a real HR export's do — first and last names drawn
// from long lists (Belgian, Dutch- and French-speaking), e-mail addresses
// made of them, random mobile numbers, some forty departments, a hundred
// job titles, sites and languages, the common ones more often — so that
// the file compresses about as much as one: gzip 5.0× at 1M rows (real
// rosters 5–20×), where rows alike but for their numbers
// ("First1;Last1;…;Sales;Verkoop;Engineer") gave 9.6× and a workbook of a
// handful of distinct strings besides the numbers. Each row's values come
// from a generator seeded with its number alone: the -change file is the
// same file but for the changed rows (a double last name, another
// department in both languages), and every run writes the same bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

func main() {
	n := flag.Int("n", 100000, "number of users")
	change := flag.Float64("change", 0, "percentage of rows whose last_name and department differ")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	fmt.Fprintln(w, "external_id;first_name;last_name;country;preferred_language;authentication_type;business_email;business_mobile_phone;manager;default_site;department_en;department_nl;job_title_en")
	every := 0
	if *change > 0 {
		every = int(100 / *change)
	}
	emails := map[string]int32{} // an address's local part → how many have it
	for i := 1; i <= *n; i++ {
		r := rand.New(rand.NewPCG(0x7253, uint64(i)))
		first := pick(r, firstNames)
		last := lastName(r)
		// As directory exports write them: First.Last, capitals kept.
		local := ascii(first) + "." + ascii(strings.ReplaceAll(last, " ", ""))
		key := strings.ToLower(local)
		emails[key]++
		if k := emails[key]; k > 1 {
			local += strconv.Itoa(int(k))
		}
		lang := "nl"
		switch x := r.IntN(100); {
		case x >= 90:
			lang = "en"
		case x >= 55:
			lang = "fr"
		}
		phone := fmt.Sprintf("+32 4%d%d %02d %02d %02d", 7+r.IntN(3), r.IntN(10), r.IntN(100), r.IntN(100), r.IntN(100))
		site := pick(r, sites)
		dept := skewed(r, len(departments))
		title := pick(r, jobTitles)
		if every > 0 && i%every == 0 {
			// Married, moved: a double name and another department.
			last += "-" + lastName(r)
			dept = (dept + 1 + r.IntN(len(departments)-1)) % len(departments)
		}
		manager := ""
		if i > 10 {
			manager = fmt.Sprintf("E%07d", i/10)
		}
		fmt.Fprintf(w, "E%07d;%s;%s;BE;%s;username_password;%s@example.com;%s;%s;%s;%s;%s;%s\n",
			i, first, last, lang, local, phone, manager, site, departments[dept][0], departments[dept][1], title)
	}
}

// pick draws from list, its first entries the most often (as a few names,
// sites and departments are in any company): the index is uniform below a
// bound that is itself uniform.
func pick(r *rand.Rand, list []string) string { return list[skewed(r, len(list))] }

func skewed(r *rand.Rand, n int) int { return r.IntN(r.IntN(n) + 1) }

// lastName makes a family name of an optional particle, a stem and an
// ending (Van den Broeck, Peetermans, Dubois): some 10,000 of them.
func lastName(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return pick(r, commonLastNames)
	}
	s := pick(r, stems) + pick(r, endings)
	if r.IntN(6) == 0 {
		p := pick(r, particles)
		if !strings.HasSuffix(p, "'") {
			p += " "
		}
		s = p + s
	}
	return s
}

// ascii is a name as it goes into an e-mail address: accents and
// apostrophes dropped.
func ascii(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case 'é', 'è', 'ê', 'ë':
			c = 'e'
		case 'É':
			c = 'E'
		case 'ï', 'î':
			c = 'i'
		case 'ö', 'ô':
			c = 'o'
		case 'ü', 'û':
			c = 'u'
		case 'ç':
			c = 'c'
		case 'à', 'â':
			c = 'a'
		case '\'':
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

var firstNames = strings.Fields(`
Aaron Adam Adrien Ahmed Alexander Alexandre Alice Amber Amélie Amira Ana Andreas Anke Ann Anna Annelies Anouk Antoine Arne Arthur
Astrid Axel Ayoub Bart Bas Bastien Benjamin Benoît Bert Bianca Bram Brecht Camille Carine Caroline Catherine Cédric Charlotte Chloé Christophe
Claire Clara Colette Daan Damien Daniel David Dirk Dominique Dries Eline Elise Els Emma Enzo Eric Erik Esther Eva Evelien
Fabienne Fatima Femke Filip Florence Frank Frederik Gert Gilles Greet Guillaume Hanne Hannelore Hans Hélène Hilde Hugo Ilse Ines Isabelle
Jan Jana Jasper Jean Jef Jelle Jens Jeroen Joke Jonas Joris Josse Julie Julien Karel Karen Karin Katrien Kevin Koen
Kristof Lars Laura Laurent Lea Léa Leen Lena Lien Lieve Lisa Lotte Louis Louise Luc Lucas Lukas Maarten Manon Marc
Margot Maria Marie Marieke Marijke Marion Mathias Mathieu Matthias Maxime Mehdi Michel Mohamed Nadia Nathalie Nicolas Nina Noah Noor Olivier
Patrick Paul Pauline Peter Philippe Pieter Quentin Rachid Raf Renée Robbe Robin Romain Ruben Rudi Sam Sandra Sanne Sara Sarah
Sébastien Simon Sofie Sophie Stefaan Stefan Steven Stijn Sven Thibault Thomas Tim Tine Tom Valérie Veerle Vincent Wim Wouter Yasmine
Youssef Yves Zoë`)

var commonLastNames = strings.Fields(`
Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters Dubois Lambert Dupont Martin Simon Leroy Laurent Michel
Hermans Aerts Smets Dumont Lemaire Vermeulen Pauwels Desmet Verstraeten Stevens Cools Segers Lenaerts Claessens Leclercq Renard
Fontaine Mathieu Denis François Bogaert Baert Declercq Van_Damme Vandenberghe De_Smet Martens Michiels Coppens Dewilde Hendrickx
Verhoeven Devos Deprez Charlier Gerard Gilles Rousseau Wuyts Maertens Van_Dyck De_Backer Mahieu Moreau Collard Masson Lejeune
Hubert Lemmens Bauwens Thys Verbruggen Bertrand Noël Pieters El_Amrani Benali Yilmaz Kaya Nowak Kowalski Rossi Ferrari Garcia
Fernandes Silva`)

var stems = strings.Fields(`
Aert Baer Bogaer Boss Bruyn Claes Coppe Cuyper Daem Deck Dewit Dries Geer Geert Goos Goris Hendrick Herm Huyg Jans Jacob
Kerck Lamb Lauw Lemm Leyss Luyck Maer Mart Meer Merck Mert Mich Moer Nuyt Peet Pauw Piet Roels Ryck Sche Smed
Stev Teugh Thys Vaer Verbeek Verhaeg Verlind Vermeir Verstra Vos Wauter Wijn Wout Wyng Bellem Bracke Cauw Dael Dierick
Dubr Duch Fauc Ghys Gijs Haes Hoog Huys Kemp Lieven Looy Meul Moens Nees Olbr Plas Pruym Quaeg Raes Roev Sels
Stoff Tack Uytt Valk Vanh Weyn Wilm Zeg Bouch Chev Dufr Fourn Gaut Lecl Marchal Poul Renaud Thom Vinc Bern Lefev`)

var endings = strings.Fields(`s en ens ers mans aert aerts ier iers ois eau ault ot et elle ijn ijns ckx aere e`)

var particles = strings.Fields(`Van De Van_den Van_der De_la Le Du D'`)

var sites = strings.Fields(`Brussels Antwerp Ghent Leuven Liège Mechelen Namur Bruges Hasselt Kortrijk Charleroi Mons Aalst Wavre Genk Ostend Zaventem Diegem`)

// departments are each one's English and Dutch names.
var departments = [][2]string{
	{"Sales", "Verkoop"}, {"Inside Sales", "Binnendienst verkoop"}, {"Key Accounts", "Grote klanten"}, {"Marketing", "Marketing"},
	{"Communication", "Communicatie"}, {"Customer Service", "Klantendienst"}, {"After-Sales", "Dienst na verkoop"}, {"Finance", "Financiën"},
	{"Accounting", "Boekhouding"}, {"Controlling", "Controlling"}, {"Treasury", "Thesaurie"}, {"Tax", "Fiscaliteit"},
	{"Human Resources", "Personeelsdienst"}, {"Payroll", "Loonadministratie"}, {"Recruitment", "Rekrutering"}, {"Training", "Opleiding"},
	{"Legal", "Juridische dienst"}, {"Compliance", "Compliance"}, {"Internal Audit", "Interne audit"}, {"IT Infrastructure", "IT-infrastructuur"},
	{"IT Applications", "IT-toepassingen"}, {"Service Desk", "Servicedesk"}, {"Security", "Beveiliging"}, {"Data & Analytics", "Data en analyse"},
	{"Research", "Onderzoek"}, {"Development", "Ontwikkeling"}, {"Engineering", "Engineering"}, {"Quality", "Kwaliteit"},
	{"Production", "Productie"}, {"Maintenance", "Onderhoud"}, {"Logistics", "Logistiek"}, {"Warehouse", "Magazijn"},
	{"Purchasing", "Aankoop"}, {"Supply Chain", "Bevoorradingsketen"}, {"Facilities", "Facilitaire dienst"}, {"Health & Safety", "Preventie en veiligheid"},
	{"Projects", "Projecten"}, {"Strategy", "Strategie"}, {"Executive Office", "Directiesecretariaat"}, {"Field Operations", "Buitendienst"},
}

var jobTitles = func() []string {
	var out []string
	for _, role := range strings.Split(`Engineer,Analyst,Consultant,Specialist,Coordinator,Officer,Advisor,Manager,Assistant,Administrator,Technician,Developer,Accountant,Planner,Buyer`, ",") {
		for _, level := range []string{"Junior ", "", "", "Senior ", "Lead ", "Principal "} {
			if level == "Principal " && (role == "Assistant" || role == "Technician") {
				continue
			}
			out = append(out, level+role)
		}
	}
	return append(out, "Team Leader", "Head of Department", "Director", "Operator", "Driver", "Warehouse Clerk", "Sales Representative",
		"Account Manager", "Receptionist", "Intern", "Product Owner", "Scrum Master", "Architect", "Data Scientist", "Controller")
}()

func init() {
	// Multi-word entries are written with '_' in the lists above.
	for _, list := range [][]string{commonLastNames, particles} {
		for i, s := range list {
			list[i] = strings.ReplaceAll(s, "_", " ")
		}
	}
}
