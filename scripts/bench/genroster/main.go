// Command genroster writes a synthetic full roster for benchmarks: N users
// with every common column filled, managers forming a shallow tree, and a
// -change percentage of rows altered so a re-sync has work to do.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
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
	for i := 1; i <= *n; i++ {
		last, dept := fmt.Sprintf("Last%d", i), "Sales"
		if every > 0 && i%every == 0 {
			last, dept = fmt.Sprintf("Changed%d", i), "Marketing"
		}
		manager := ""
		if i > 10 {
			manager = fmt.Sprintf("E%07d", i/10)
		}
		fmt.Fprintf(w, "E%07d;First%d;%s;BE;nl;username_password;user%d@example.com;+32 470 %02d %02d %02d;%s;Brussels;%s;Verkoop;Engineer\n",
			i, i, last, i, (i/10000)%100, (i/100)%100, i%100, manager, dept)
	}
}
