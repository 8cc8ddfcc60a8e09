package notify

import (
	"html/template"
	texttemplate "text/template"
)

var importText = texttemplate.Must(texttemplate.New("text").Parse(`{{.Org}}: {{.Headline}}.

Import:  {{.ID}} (quote it to support)
File:    {{.FileName}} ({{.Size}})
Door:    {{.Door}}, {{.Mode}} mode{{if .DryRun}}, dry run: nothing was applied{{end}}
{{- if eq .Status "failed"}}

Why it failed: {{.Error}}
Nothing of the file was applied. Correct the file and send it again.
{{- else}}


{{- range .Counts.Lines}}
{{printf "%-*s" $.Counts.Width (print .Label ":")}}{{.Value}}
{{- end}}
{{- end}}
{{- if .Held}}

{{.Held}}.
{{if .ArchiveAttached}}The attached {{.ID}}-archive.csv lists them: an approval archives no one else.
{{else}}The list of them is at {{.ArchiveLink}}: an approval archives no one else.
{{end}}To apply it, open the import below and choose Approve (or run: rosterd import approve {{.ID}}).
To drop it, choose Cancel (or run: rosterd import cancel {{.ID}}); a newer file also replaces it.
{{- end}}
{{- range .Changes}}

{{.Title}}:
{{- range .Items}}
- {{.}}
{{- end}}
{{- if .More}}
{{.More}} {{$.Link}}
{{- end}}
{{- end}}
{{- if .Warnings}}

Warnings:
{{- range .Warnings}}
  - {{.}}
{{- end}}
{{- end}}
{{- if .HasErrors}}

{{if .Attached}}The attached {{.AttachedName}}{{else}}The file {{.ErrorsLink}}{{end}} holds the {{.Counts.Failed}} rows that failed, exactly as they were sent, with an "errors" column at the end saying what is wrong in each.
How to fix them: correct the cells in that file (leave the errors column where it is; it is ignored) and
{{- if eq .Mode "full"}} upload it in the back office (Actions → Upload users: {{.UploadLink}}) or with POST /api/v1/imports, a partial import, which never archives anyone. Do not put it into /in/ on the SFTP endpoint: a file there is the whole roster, and an errors file is refused there.
{{- else if .API}} send the fixed file again as it is with POST /api/v1/imports, as this one came (or upload it in the back office: Actions → Upload users: {{.UploadLink}}).
{{- else}} upload the file again as it is, in the back office (Actions → Upload users: {{.UploadLink}}).{{end}}{{if and (not .DryRun) (ne .Status "held")}} The rows that succeeded are already applied.{{end}}
{{- end}}

Details: {{.Link}}
`))

var importHTML = template.Must(template.New("html").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{.Org}}: {{.Headline}}</h2>
<p>Import <code>{{.ID}}</code> (quote it to support)<br>
File: {{.FileName}} ({{.Size}})<br>
Door: {{.Door}}, {{.Mode}} mode{{if .DryRun}}, dry run: nothing was applied{{end}}</p>
{{if eq .Status "failed"}}<p><strong>Why it failed:</strong> {{.Error}}<br>Nothing of the file was applied. Correct the file and send it again.</p>
{{else}}<table>
{{range .Counts.Lines}}<tr><td>{{.Label}}</td><td style="text-align: right">{{.Value}}</td></tr>
{{end}}</table>{{end}}
{{if .Held}}<p><strong>{{.Held}}.</strong><br>{{if .ArchiveAttached}}The attached <code>{{.ID}}-archive.csv</code> lists them: an approval archives no one else.<br>{{else}}<a href="{{.ArchiveLink}}">The list of them</a>: an approval archives no one else.<br>{{end}}To apply it, open the import and choose Approve (or run <code>rosterd import approve {{.ID}}</code>). To drop it, choose Cancel (or run <code>rosterd import cancel {{.ID}}</code>); a newer file also replaces it.</p>{{end}}
{{range .Changes}}<p>{{.Title}}:</p>
<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
{{if .More}}<p>{{.More}} <a href="{{$.Link}}">{{$.Link}}</a></p>
{{end}}{{end}}{{if .Warnings}}<p>Warnings:</p><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .HasErrors}}<p>{{if .Attached}}The attached <code>{{.AttachedName}}</code>{{else}}<a href="{{.ErrorsLink}}">This file</a>{{end}} holds the {{.Counts.Failed}} rows that failed, exactly as they were sent, with an <code>errors</code> column at the end saying what is wrong in each.
Correct the cells in that file (leave the errors column where it is; it is ignored) and
{{- if eq .Mode "full"}} upload it in the back office (<a href="{{.UploadLink}}">Actions → Upload users</a>) or with <code>POST /api/v1/imports</code>, a partial import, which never archives anyone. Do not put it into <code>/in/</code> on the SFTP endpoint: a file there is the whole roster, and an errors file is refused there.
{{- else if .API}} send the fixed file again as it is with <code>POST /api/v1/imports</code>, as this one came (or upload it in the back office: <a href="{{.UploadLink}}">Actions → Upload users</a>).
{{- else}} upload the file again as it is, in the back office (<a href="{{.UploadLink}}">Actions → Upload users</a>).{{end}}{{if and (not .DryRun) (ne .Status "held")}} The rows that succeeded are already applied.{{end}}</p>{{end}}
<p><a href="{{.Link}}">Open the import</a></p>
</body></html>
`))

var noFileText = texttemplate.Must(texttemplate.New("nofile-text").Parse(`{{.Org}}: the scheduled sync found no new roster file in /in/ on the SFTP endpoint, so nothing was changed.

Schedule:   {{.Schedule}} ({{.TimeZone}})
Last file:  {{.LastFile}}

To send one, upload the whole roster as a CSV file into /in/ with one of the organisation's SFTP logins
(for example: echo "put roster.csv /in/roster.csv" | sftp -b - -P 2022 USER@HOST). Clients that upload
under a temporary name (.part, .filepart, .tmp) and rename it at the end work too. The next scheduled
sync imports the newest file; older ones are superseded by it.

If your HR system should have sent one, check its export job. You get this e-mail at most once a day.

Imports: {{.Link}}
`))

var noFileHTML = template.Must(template.New("nofile").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<p>{{.Org}}: the scheduled sync found no new roster file in <code>/in/</code> on the SFTP endpoint, so nothing was changed.</p>
<p>Schedule: <code>{{.Schedule}}</code> ({{.TimeZone}})<br>Last file: {{.LastFile}}</p>
<p>To send one, upload the whole roster as a CSV file into <code>/in/</code> with one of the organisation's SFTP logins
(for example: <code>echo "put roster.csv /in/roster.csv" | sftp -b - -P 2022 USER@HOST</code>). Clients that upload
under a temporary name (<code>.part</code>, <code>.filepart</code>, <code>.tmp</code>) and rename it at the end work too.
The next scheduled sync imports the newest file; older ones are superseded by it.</p>
<p>If your HR system should have sent one, check its export job. You get this e-mail at most once a day.</p>
<p><a href="{{.Link}}">Imports</a></p>
</body></html>
`))
