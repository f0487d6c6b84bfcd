package reply

import "strings"

// Words clients write around a quote, in the languages mentees use
// (REPLIES.md section 1). Everything is lower-case.

// attributionVerbs are the verbs of "On <date>, <name> wrote:" lines.
var attributionVerbs = []string{
	"wrote", "writes", // en
	"schrieb", "schreibt", // de
	"écrit", "ecrit", // fr
	"schreef", "geschreven", // nl
	"escribió", "escribio", // es
	"escreveu",          // pt
	"scritto", "scrive", // it
	"skrev", "skriver", // da, no, sv
	"kirjoitti",                      // fi
	"napisał", "napisal", "napisała", // pl
	"έγραψε", "εγραψε", // el
	"написал", "пишет", // ru
	"写道", "寫道", // zh
	"yazdı", "napsal", "írta", "a scris", // tr, cs, hu, ro
}

// quotingOpeners begin the date-less attributions of Horde and others
// ("Quoting Name <addr>:", "Zitat von Name <addr>:").
var quotingOpeners = []string{
	"quoting ", "zitat von ", "citation de ", "citando ", "cytat ", "цитата ", "citerar ", "citat ",
	"citeren ", "lainaus ",
}

// headerKind is the kind of a field in a quoted header block.
type headerKind uint8

const (
	hNone headerKind = iota
	hFrom
	hSent
	hTo
	hCc
	hSubject
	hReplyTo
)

// headerLabels maps the labels of quoted header blocks (Outlook, Samsung,
// QQ/Foxmail, Zimbra, Outlook for Mac) to their kind.
var headerLabels = map[string]headerKind{}

func init() {
	for kind, labels := range map[headerKind]string{
		hFrom: "from|von|de|van|fra|från|da|od|от|από|lähettäjä|kimden|feladó|发件人|發件人|寄件者|寄件人|差出人|" +
			"auteur|afzender|remitente|mittente|avsändare|avsender|nadawca|відправник",
		hSent: "sent|date|gesendet|datum|envoyé|envoyé le|enviado|enviada|enviado el|enviado em|fecha|data|" +
			"inviato|inviato il|verzonden|verstuurd|sendt|dato|skickat|skickades|lähetetty|päivämäärä|päiväys|" +
			"wysłano|wysłane|отправлено|дата|στάλθηκε|ημερομηνία|发送时间|發送時間|发送日期|日期|时间|寄件日期|" +
			"送信日時|日付|odesláno|gönderildi|tarih|elküldve|dátum|sent at",
		hTo: "to|an|à|a|para|aan|til|till|vastaanottaja|do|кому|προς|收件人|收件者|宛先|komu|kime|címzett|" +
			"destinataire|destinatario|ontvanger|mottaker|mottagare|adresat",
		hCc: "cc|bcc|kopie|kopi|kopia|kopio|копия|κοιν|抄送|副本|bilgi|másolat|dw|cco|ccn",
		hSubject: "subject|betreff|objet|asunto|assunto|oggetto|onderwerp|emne|ämne|aihe|temat|тема|θέμα|" +
			"主题|主題|主旨|件名|předmět|konu|tárgy|sujet|titel",
		hReplyTo: "reply-to|antwort an|répondre à|responder a|beantwoorden|svar til|svara till",
	} {
		for _, l := range strings.Split(labels, "|") {
			headerLabels[l] = kind
		}
	}
}

// separatorPhrases are the words of "-----Original Message-----" lines and
// forward banners, after the dashes are taken away.
var separatorPhrases = map[string]bool{}

// beginPhrases are forward banners that stand without dashes ("Begin
// forwarded message:").
var beginPhrases = map[string]bool{}

func init() {
	for _, p := range strings.Split("original message|original-nachricht|ursprüngliche nachricht|"+
		"originalnachricht|message d'origine|message d’origine|message original|mensaje original|"+
		"mensagem original|messaggio originale|oorspronkelijk bericht|origineel bericht|"+
		"oprindelig meddelelse|original meddelelse|opprinnelig melding|opprinnelig e-post|"+
		"ursprungligt meddelande|originalmeddelande|alkuperäinen viesti|wiadomość oryginalna|"+
		"oryginalna wiadomość|исходное сообщение|оригинальное сообщение|пересланное сообщение|"+
		"αρχικό μήνυμα|原始邮件|原始郵件|邮件原件|原始信件|původní zpráva|orijinal ileti|özgün ileti|"+
		"eredeti üzenet|původní e-mail|původní zpráva|pôvodná správa|mesaj original|forwarded message|weitergeleitete nachricht|message transféré|"+
		"mensaje reenviado|mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht|"+
		"videresendt meddelelse|videresendt melding|vidarebefordrat meddelande|välitetty viesti|"+
		"wiadomość przekazana|προωθημένο μήνυμα|转发邮件|轉寄郵件|reply message|replied message", "|") {
		separatorPhrases[p] = true
	}
	for _, p := range strings.Split("begin forwarded message|début du message réexpédié|"+
		"anfang der weitergeleiteten nachricht|inicio del mensaje reenviado|begin doorgestuurd bericht|"+
		"videresendt besked|start på videresendt melding|vidarebefordrat brev|"+
		"inizio messaggio inoltrato|início da mensagem reencaminhada", "|") {
		beginPhrases[p] = true
		separatorPhrases[p] = true
	}
}

// questionWords may stand before a number that opens an answer
// ("Question 2:", "Spørgsmål 2:", "Answer 2:").
var questionWords = []string{
	"question", "answer", "spørgsmål", "svar", "frage", "antwort", "vraag", "antwoord",
	"pregunta", "respuesta", "question n°", "réponse", "fråga", "spørsmål", "kysymys", "vastaus",
	"pytanie", "odpowiedź", "domanda", "risposta", "pergunta", "resposta", "вопрос", "ответ",
	"ερώτηση", "απάντηση", "问题", "問題", "回答", "答",
}

// answerMarks may open an answer typed under a question ("A: ...").
var answerMarks = []string{
	"a:", "a -", "answer:", "svar:", "antwort:", "réponse :", "réponse:", "respuesta:", "antwoord:",
	"risposta:", "resposta:", "odpowiedź:", "vastaus:", "ответ:", "απάντηση:", "答：", "答:", "回答：",
}

// regardingWords stand before a number with a mark after it: "Ad 1:",
// "Zu 2.", "Re 3:", "Vedr. 4:".
var regardingWords = []string{"ad ", "ad. ", "zu ", "re ", "ang. ", "vedr. ", "til ", "ref. ", "betr. ", "for "}

// questionInitial holds the first letters of questionWords.
var questionInitial = map[rune]bool{}

func init() {
	for _, w := range questionWords {
		questionInitial[firstRune(w)] = true
	}
}
