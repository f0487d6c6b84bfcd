package calendar

// MethodDeclineCounter answers an attendee's COUNTER with no (RFC 5546
// section 3.2.8): the same UID and SEQUENCE, the proposer as the one
// ATTENDEE, the event as it stands (its time unchanged).
const MethodDeclineCounter = "DECLINECOUNTER"

// DeclineCounter builds a DECLINECOUNTER for e, whose Attendees should hold
// only the proposer.
func DeclineCounter(e Event) ([]byte, error) {
	return build(MethodDeclineCounter, e)
}
