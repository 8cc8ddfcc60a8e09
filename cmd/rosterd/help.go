package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The daemon's settings (SPEC §7) are persistent flags of the root command,
// so every command that reads or writes data takes them as serve does. Their
// ~25 flags would fill every command's help: they are hidden there, listed
// by `serve --help` and described by the help topic `rosterd help config`,
// and still accepted everywhere.

// newConfigTopic is the help topic `rosterd help config`.
func newConfigTopic() *cobra.Command {
	topic := &cobra.Command{
		Use:   "config",
		Short: "The daemon's settings: a YAML file, ROSTERD_* variables or flags, for serve and every data command",
		Long: `The daemon's settings (database, addresses, limits, e-mail, SFTP, retention)
come, each overriding the one before, from the defaults, a YAML file (--config
FILE, keys as the setting names: data_dir, database_url, …), environment
variables (ROSTERD_ and the setting's name in upper case, like
ROSTERD_DATABASE_URL), and flags (--database-url). serve and every command that
reads or writes data (migrate, org, admin, token, sftp-account, import, users,
sync, backup, demo) take them; they are checked at start, with messages that
name the setting.`,
	}
	topic.SetHelpFunc(func(c *cobra.Command, _ []string) {
		w := c.OutOrStdout()
		fmt.Fprintf(w, "%s\n\nSettings:\n%s", c.Long, flagUsages(configFlags(c.Root())))
		fmt.Fprintf(w, "\nExample: %s serve --config /etc/rosterd.yaml,\n     or: ROSTERD_DATABASE_URL=postgres://… %s serve\n", c.Root().Name(), c.Root().Name())
	})
	return topic
}

// configFlags are the root's persistent flags, the daemon's settings, all
// shown.
func configFlags(root *cobra.Command) *pflag.FlagSet {
	fs := pflag.NewFlagSet("config", pflag.ContinueOnError)
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		c := *f
		c.Hidden = false
		fs.AddFlag(&c)
	})
	return fs
}

// hideConfigFlags hides the daemon settings from every command's help but
// serve's and the config topic's; --config stays shown.
func hideConfigFlags(root *cobra.Command) {
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "config" {
			f.Hidden = true
		}
	})
}

// usage writes a command's usage: cobra's layout, with flags written by
// flagUsages (no "[=true|false]" after every switch) and, but for serve and
// the config topic, the daemon settings named in one line.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	fmt.Fprintln(w, "Usage:")
	if c.Runnable() {
		fmt.Fprintf(w, "%s\n", wrap("  ", 4, c.UseLine()))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "  %s [command]\n", c.CommandPath())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.Example)
	}
	var cmds, topics []*cobra.Command
	for _, s := range c.Commands() {
		switch {
		case s.IsAvailableCommand():
			cmds = append(cmds, s)
		case s.IsAdditionalHelpTopicCommand():
			topics = append(topics, s)
		}
	}
	listCommands(w, "Available Commands:", cmds)
	if fs := c.LocalFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", flagUsages(fs))
	}
	daemon := c.Name() == "serve" || c.Name() == "config"
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() && !daemon { // serve lists --config with the settings
		fmt.Fprintf(w, "\nGlobal Flags:\n%s", flagUsages(fs))
	}
	root := c.Root()
	if daemon {
		fmt.Fprintf(w, "\nDaemon settings (also in the --config file or as ROSTERD_* variables):\n%s", flagUsages(configFlags(root)))
	} else if c.Runnable() || c == root {
		fmt.Fprintf(w, "\nDaemon settings (database, addresses, limits, e-mail): --config FILE,\nROSTERD_* variables or their flags; see \"%s help config\".\n", root.Name())
	}
	listCommands(w, "Additional help topics:", topics)
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	return nil
}

func listCommands(w io.Writer, title string, cmds []*cobra.Command) {
	if len(cmds) == 0 {
		return
	}
	pad := 0
	for _, s := range cmds {
		pad = max(pad, len(s.Name()))
	}
	fmt.Fprintf(w, "\n%s\n", title)
	for _, s := range cmds {
		fmt.Fprintf(w, "%s\n", wrap(fmt.Sprintf("  %-*s  ", pad, s.Name()), pad+4, s.Short))
	}
}

// flagUsages lists flags like pflag does, but a switch (a bool flag) is
// written "--json", not "--json[=true|false]".
func flagUsages(fs *pflag.FlagSet) string {
	type line struct{ name, usage string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name := "      --" + f.Name
		if f.Shorthand != "" {
			name = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, text := pflag.UnquoteUsage(f)
		if f.Value.Type() != "bool" && varname != "" {
			name += " " + varname
		}
		switch f.Value.Type() {
		case "bool", "int", "int64", "duration", "size":
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
				text += " (default " + f.DefValue + ")"
			}
		default:
			if f.DefValue != "" && f.DefValue != "[]" {
				text += fmt.Sprintf(" (default %q)", f.DefValue)
			}
		}
		width = max(width, len(name))
		lines = append(lines, line{name, text})
	})
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s\n", wrap(fmt.Sprintf("%-*s   ", width, l.name), width+3, l.usage))
	}
	return b.String()
}

// helpWidth is the widest line of the help rosterd writes itself (usage,
// command lists, flags), for an 80- to 100-column terminal; the Long texts
// are wrapped by hand at about 80.
const helpWidth = 100

// wrap writes text after prefix, broken at spaces so that no line is wider
// than helpWidth (a single word wider than that stays whole); the lines
// after the first are indented by indent spaces, under the text's column.
// A short parenthesis — "(env ROSTERD_WORKERS)", "(default 2)" — is kept
// on one line.
func wrap(prefix string, indent int, text string) string {
	var b strings.Builder
	b.WriteString(prefix)
	col := utf8.RuneCountInString(prefix)
	first := true
	for _, word := range helpWords(text) {
		n := utf8.RuneCountInString(word)
		switch {
		case first:
		case col+1+n > helpWidth:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
		first = false
	}
	return b.String()
}

// helpWords splits text at spaces, but keeps a parenthesis of up to 40
// characters whole.
func helpWords(text string) []string {
	fields := strings.Fields(text)
	var words []string
	for i := 0; i < len(fields); i++ {
		w := fields[i]
		if strings.HasPrefix(w, "(") && !strings.Contains(w, ")") {
			group := w
			for j := i + 1; j < len(fields) && len(group) <= 40; j++ {
				group += " " + fields[j]
				if strings.HasSuffix(fields[j], ")") {
					if len(group) <= 40 {
						w, i = group, j
					}
					break
				}
			}
		}
		words = append(words, w)
	}
	return words
}
