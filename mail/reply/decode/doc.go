// Package decode reads the bytes of one received message into what package
// reply understands: its header fields, the parts of its MIME tree, and its
// body as normalised UTF-8 text.
package decode
