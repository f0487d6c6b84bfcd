// Package decode reads the bytes of one received message into what package
// reply understands: its header fields, the parts of its MIME tree, and its
// body as normalised UTF-8 text. It knows the formats (RFC 5322, RFC 2045 to
// 2047, RFC 3676, HTML) and nothing of mentord: not what was sent, nor what a
// reply, a bounce or an answer is. It is pure, lenient (bad input gives less
// text, never an error) and bounded in time and memory
// (RELIABILITY.md section 7).
//
// The flow for one message:
//  1. SplitHeader reads the header block (at most 64 KiB, RFC 5322 section
//     2.2): fields unfolded, names lower-cased, values raw. Get, Has and All
//     look a field up; HeaderText decodes RFC 2047 words in any charset the
//     table knows; Mailbox, Address, Addresses, MessageIDs and Date read the
//     structured fields. OneMailbox is the exception to leniency: it reads an
//     originator field (From, Sender) as exactly one mailbox or says why not,
//     since who sent a message must never be guessed.
//  2. Walk walks the MIME tree (RFC 2045/2046; MaxDepth deep, MaxParts
//     parts): it keeps the text/plain and text/html bodies, the calendar
//     parts, the delivery-status reports and the header blocks of embedded
//     originals, and notes disposition-notification and feedback-report
//     parts. Attachments and message/rfc822 parts are never read as text.
//  3. Each text part has its transfer encoding undone (base64 and
//     quoted-printable, RFC 2045 section 6, leniently) and its charset
//     decoded (WHATWG labels, so iso-8859-1 reads as windows-1252; valid UTF-8
//     under a single-byte label is taken for a mislabel; bytes that are not
//     UTF-8 read as windows-1252); format=flowed is undone (RFC 3676, DelSp
//     too); NormalizeText makes NBSP plain spaces and line ends LF.
//  4. Tree.BodyText chooses the body: text/plain when it holds text, else
//     the HTML rendered to text as a reader sees it. Each client's quote
//     container becomes '>' lines, where an unprefixed quote starts (Outlook,
//     Zimbra) becomes a QuoteStart line, and signatures the client marks are
//     left out (REPLIES.md section 5).
//
// The line between this package and reply follows the calls: these functions
// call only each other (and the standard library, x/text and x/net/html),
// and reply calls in. Two things here look like understanding but need the
// format: the HTML clients' quote and signature marks, which exist only in
// the HTML tree and would be lost once it is rendered, so the renderer turns
// them into the '>' lines and the QuoteStart line that reply reads as quote;
// and ICalMethod, the METHOD line of a calendar part. Reading a bounce report
// (which recipients failed, and whether for good) is reply's: it is part of
// classifying, and half of it reads the bounce's prose; this package hands it
// the report parts and the field readers. CalendarPart here is what the walk
// found; reply copies it into its own CalendarPart, the type its Result
// carries.
package decode
