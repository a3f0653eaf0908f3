// Package emails renders the email Onramp sends, each as a plain-text and an HTML part from the
// same view model. Renderer implements models/mail.Renderer; main wires it into the outbox.
package emails
