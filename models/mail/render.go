package mail

import "context"

// Rendered is an email's content: one subject and the same message as plain text and HTML.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Renderer turns a message into its content. It is declared here and implemented by
// views/emails (templ), so that models/ never imports the views; main wires it in.
type Renderer interface {
	Invitation(ctx context.Context, inv Invitation) (Rendered, error)
	DisabledNotice(ctx context.Context, n DisabledNotice) (Rendered, error)
	Code(ctx context.Context, m CodeMail) (Rendered, error)
}
