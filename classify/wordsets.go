package classify

// ruleSet is a word set of the rules that is tested by vocabulary id
// (field.is): the sets tested for nearly every state name and family
// word, where hashing the word into a map was a measurable share of the
// rule stages.
type ruleSet uint8

const (
	setAccuseVerbs ruleSet = iota
	setPassiveAfterAccuse
	setAgentFor
	setOfficialNouns
	setSpeechVerbs
	setBeWords
	setPassiveAttrib
	setStateOwned
	setLocationBefore
	setStateNouns
	setVictimBefore
	setStateVerbs
	setStateSuspected
	setStateFillers
	setActorNouns
	setFamilyStop
)

// ruleSets are the sets by ruleSet; compile adds their words to the
// vocabulary and records them in Classifier.wordSets.
var ruleSets = [...]map[string]bool{
	setAccuseVerbs:        accuseVerbs,
	setPassiveAfterAccuse: passiveAfterAccuse,
	setAgentFor:           agentFor,
	setOfficialNouns:      officialNouns,
	setSpeechVerbs:        speechVerbs,
	setBeWords:            beWords,
	setPassiveAttrib:      passiveAttrib,
	setStateOwned:         stateOwned,
	setLocationBefore:     locationBefore,
	setStateNouns:         stateNouns,
	setVictimBefore:       victimBefore,
	setStateVerbs:         stateVerbs,
	setStateSuspected:     stateSuspected,
	setStateFillers:       stateFillers,
	setActorNouns:         actorNouns,
	setFamilyStop:         familyStop,
}
