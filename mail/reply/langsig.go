package reply

import "strings"

// Words of sign-offs, footers, disclaimers and automatic messages, in the
// languages mentees use. Everything is lower-case.

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Split(s, "|") {
		m[w] = true
	}
	return m
}

// valedictions are closing phrases; a line that is one of them (with an
// optional name after it) starts a sign-off.
var valedictions = wordSet("best|best regards|best wishes|all best|all the best|kind regards|kindest regards|" +
	"warm regards|warmest regards|warm wishes|regards|many thanks|thanks|thanks again|thanks so much|" +
	"thanks a lot|thanks very much|thank you|thank you so much|thank you again|thx|cheers|sincerely|" +
	"yours sincerely|yours truly|yours|take care|talk soon|speak soon|see you soon|see you|with thanks|" +
	"with best wishes|with kind regards|br|brgds|rgds|kr|warmly|respectfully|love|best rgds|" +
	// de
	"viele grüße|viele grüsse|vielen dank|danke|danke schön|beste grüße|beste grüsse|liebe grüße|" +
	"liebe grüsse|herzliche grüße|herzliche grüsse|schöne grüße|freundliche grüße|freundliche grüsse|" +
	"mit freundlichen grüßen|mit freundlichen grüssen|mit besten grüßen|gruß|gruss|grüße|lg|vg|mfg|bis bald|" +
	// fr
	"cordialement|bien cordialement|bien à vous|bien a vous|merci|merci beaucoup|merci encore|à bientôt|" +
	"a bientot|bonne journée|belle journée|amitiés|bises|salutations|sincères salutations|" +
	"meilleures salutations|bien amicalement|amicalement|" +
	// nl
	"met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|vriendelijke groeten|groeten|" +
	"groetjes|hartelijke groet|hartelijke groeten|mvg|gr|dank je|dank u|bedankt|alvast bedankt|tot snel|groet|" +
	// es, pt, it
	"saludos|un saludo|saludos cordiales|atentamente|un abrazo|abrazos|gracias|muchas gracias|" +
	"hasta pronto|cordialmente|un cordial saludo|abraços|abraço|um abraço|atenciosamente|cumprimentos|" +
	"melhores cumprimentos|obrigado|obrigada|att|beijos|cordiali saluti|saluti|un saluto|grazie|" +
	"grazie mille|a presto|distinti saluti|buona giornata|" +
	// da, no, sv, fi
	"venlig hilsen|med venlig hilsen|mvh|hilsen|vh|kh|kærlig hilsen|de bedste hilsner|bedste hilsner|" +
	"bedste hilsen|mange tak|tak|vennlig hilsen|med vennlig hilsen|beste hilsen|takk|mange takk|" +
	"med vänlig hälsning|vänlig hälsning|vänliga hälsningar|med vänliga hälsningar|hälsningar|hälsning|" +
	"bästa hälsningar|tack|tack så mycket|ystävällisin terveisin|terveisin|parhain terveisin|kiitos|" +
	// pl, ru, el, zh, ja
	"pozdrawiam|z poważaniem|pozdrowienia|dzięki|dziękuję|serdecznie pozdrawiam|z pozdrowieniami|" +
	"с уважением|спасибо|всего доброго|всего хорошего|с наилучшими пожеланиями|με εκτίμηση|ευχαριστώ|" +
	"φιλικά|με φιλικούς χαιρετισμούς|χαιρετισμούς|谢谢|此致|此致敬礼|祝好|顺祝商祺|多谢|敬上|感谢|" +
	"よろしくお願いします|よろしくお願いいたします|よろしくお願い致します|宜しくお願いします|宜しくお願い致します|" +
	"よろしく|お願いします|以上|以上です|敬具|草々|顺颂商祺|祝工作顺利|감사합니다|고맙습니다|감사드립니다")

// footerPrefixes begin the lines mobile clients add under the text.
var footerPrefixes = []string{
	"sent from ", "sent via ", "sent with ", "sent using ", "sent on my ", "get outlook for ",
	"download outlook for ", "envoyé de mon ", "envoyé depuis ", "envoyé à partir de ",
	"obtenir outlook pour ", "télécharger outlook pour ", "von meinem ", "gesendet von ",
	"gesendet mit ", "outlook für ", "verstuurd vanaf ", "verzonden vanaf ", "verzonden met ",
	"verstuurd met ", "outlook voor ", "enviado desde ", "enviado con ", "enviado de mi ",
	"obtener outlook para ", "enviado do meu ", "enviado do ", "enviado a partir do ",
	"obter o outlook para ", "baixe o outlook para ", "sendt fra min ", "sendt fra ", "hent outlook til ",
	"få outlook til ", "skickat från min ", "skickat från ", "skaffa outlook för ", "lähetetty ",
	"hanki outlook ", "inviato da ", "inviato dal mio ", "scarica outlook per ", "wysłane z ",
	"wysłano z ", "pobierz outlook dla ", "отправлено с ", "отправлено из ", "получите outlook для ",
	"στάλθηκε από ", "λήψη του outlook ", "从我的", "发自我的", "發自我的", "来自我的", "從我的",
}

// footerInitial holds the first letters of the footer prefixes.
var footerInitial = map[rune]bool{}

func init() {
	for _, p := range footerPrefixes {
		footerInitial[firstRune(p)] = true
	}
}

// footerPossessive begin footers that name the sender's own device ("Sent
// from my ..."): short lines with them are footers whatever the device.
var footerPossessive = []string{
	"sent from my ", "von meinem ", "envoyé de mon ", "enviado desde mi ", "enviado de mi ",
	"sendt fra min ", "verstuurd vanaf mijn ", "verzonden vanaf mijn ", "skickat från min ",
	"inviato dal mio ", "enviado do meu ", "lähetetty ", "wysłane z mojego ", "отправлено с моего ",
	"στάλθηκε από το ",
}

// footerDevices name the device or app in a footer line.
var footerDevices = []string{
	"xperia", "motorola", "nokia", "oneplus", "oppo", "honor", "redmi", "htc", "iphone", "ipad", "android", "galaxy", "samsung", "mobile", "smartphone", "phone", "outlook",
	"yahoo", "proton", "blackberry", "huawei", "xiaomi", "pixel", "k-9", "mail", "windows", "tablet",
	"device", "aol", "fairemail", "spark", "airmail", "bluemail", "handy", "móvil", "movil", "portable",
	"telefon", "telefoon", "téléphone", "mobil", "gerät", "apparaat", "dispositivo", "手机", "手機",
}

// bannerPrefixes begin the warnings mail gateways put above a message.
var bannerPrefixes = []string{
	"caution:", "caution -", "external email", "external sender", "external]", "ext]", "external:",
	"warning: this email", "warning: external", "this email originated from outside",
	"this message originated from outside", "this email was sent from outside",
	"you don't often get email from", "you don’t often get email from",
	"some people who received this message don't often get email from",
	"some people who received this message don’t often get email from",
	"achtung: diese e-mail", "externe e-mail", "obs: denne e-mail", "ekstern e-mail", "attention : ce courriel",
}

// disclaimerOpeners begin confidentiality notices.
var disclaimerOpeners = []string{
	"confidentiality", "confidential", "disclaimer", "this e-mail", "this email", "this message",
	"the information contained", "the information in this", "notice:", "important notice",
	"privileged", "diese e-mail", "diese nachricht", "vertraulichkeit", "denne e-mail", "denne mail",
	"denne meddelelse", "denne e-posten", "denna e-post", "detta e-post", "dit e-mailbericht",
	"deze e-mail", "dit bericht", "ce message", "ce courriel", "ce courrier", "este mensaje",
	"este correo", "esta mensagem", "este e-mail", "questo messaggio", "questa e-mail",
	"ta wiadomość", "tämä viesti", "это сообщение", "данное сообщение", "αυτό το μήνυμα", "本邮件",
	"此邮件", "本郵件",
}

// disclaimerWords are the words of confidentiality notices.
var disclaimerWords = []string{
	"confidential", "privileged", "intended recipient", "intended solely", "intended only",
	"addressee", "unauthori", "disclosure", "received this", "received it in error", "virus",
	"vertraulich", "empfänger", "fortrolig", "modtager", "konfidentiell", "mottagare",
	"vertrouwelijk", "geadresseerde", "confidentiel", "destinataire", "confidencial", "destinatario",
	"riservat", "poufn", "конфиденц", "εμπιστευτικ", "保密", "机密", "luottamuksellinen",
}

// autoSubjects are subject prefixes of automatic replies; a colon must follow.
var autoSubjects = []string{
	"automatic reply", "auto reply", "autoreply", "auto-reply", "auto response", "auto-response",
	"autoresponse", "automatic response", "out of office", "out of office reply",
	"out of office autoreply", "out of the office", "vacation reply", "on vacation", "on leave",
	"abwesenheitsnotiz", "automatische antwort", "autom. antwort", "abwesend", "réponse automatique",
	"absence du bureau", "absent du bureau", "automatisch antwoord", "afwezigheidsmelding", "afwezig",
	"respuesta automática", "respuesta automatica", "fuera de la oficina", "autosvar", "automatisk svar",
	"fraværende", "fravær", "frånvaro", "ikke på kontoret", "automaattinen vastaus", "poissa",
	"risposta automatica", "fuori sede", "resposta automática", "resposta automatica", "ausente",
	"odpowiedź automatyczna", "automatyczna odpowiedź", "автоматический ответ", "автоответ",
	"αυτόματη απάντηση", "自动回复", "自動回覆", "自動応答", "自動返信", "otomatik yanıt",
	"automatická odpověď", "automatikus válasz", "răspuns automat",
}

// bounceSubjects are words of non-delivery subjects.
var bounceSubjects = []string{
	"undelivered mail", "undeliverable", "delivery status notification", "mail delivery failed",
	"delivery failure", "returned mail", "failure notice", "mail delivery failure", "delivery has failed",
	"message not delivered", "delivery failed", "nicht zustellbar", "unzustellbar", "non remis",
	"non distribuable", "onbestelbaar", "no se puede entregar", "kan ikke leveres", "kunne ikke leveres",
	"olevererbart", "kan inte levereras", "ei voitu toimittaa", "non recapitabile", "não entregue",
	"niedostarczalna", "nie można dostarczyć", "недоставлено", "не доставлено", "无法投递", "退信",
	"未送达", "mail returned", "returned to sender",
}

// oooPhrases are phrases of out-of-office notices; oooBoilerplate are the
// ones people do not write to someone they answer. A body without a quote
// needs two phrases, one of them boilerplate, to be taken for an automatic
// reply.
var oooPhrases = []string{
	"out of the office", "out of office", "away from the office", "on annual leave", "on leave until",
	"on vacation", "on holiday", "will respond", "upon my return", "on my return", "when i return",
	"will be back", "i will return", "back in the office", "nicht im büro", "abwesend", "im urlaub",
	"absent du bureau", "en congé", "de retour le", "niet op kantoor", "afwezig", "met vakantie",
	"fuera de la oficina", "de vacaciones", "ikke på kontoret", "på ferie", "fraværende", "på semester",
	"lomalla", "fuori ufficio", "in ferie", "em férias", "fora do escritório", "na urlopie", "в отпуске",
	"εκτός γραφείου", "休假", "不在办公室",
}

var oooBoilerplate = []string{
	"thank you for your email", "thank you for your e-mail", "thank you for your message",
	"thanks for your email", "thanks for your message", "limited access to", "no access to e-mail",
	"no access to email", "not reading email", "not reading e-mail", "has not been forwarded",
	"will not be forwarded", "will not be read", "for urgent", "if your matter is urgent",
	"i am currently out", "i'm currently out", "i am currently away", "automatic reply", "auto-reply",
	"vielen dank für ihre nachricht", "vielen dank für ihre e-mail", "in dringenden fällen",
	"merci pour votre message", "merci pour votre e-mail", "en cas d'urgence", "bedankt voor uw e-mail",
	"bedankt voor je bericht", "in dringende gevallen", "gracias por su correo", "gracias por su mensaje",
	"en caso de urgencia", "tak for din mail", "tak for din e-mail", "tak for din henvendelse",
	"i akutte tilfælde", "takk for din e-post", "tack för ditt mejl", "tack för ditt meddelande",
	"i brådskande ärenden", "kiitos viestistäsi", "grazie per la sua email", "per urgenze",
	"obrigado pela sua mensagem", "dziękuję za wiadomość", "спасибо за ваше письмо",
	"ευχαριστώ για το μήνυμά σας", "感谢您的来信",
}
