import Testing

@testable import CreditsCore

@Suite struct KeywordsTests {
    @Test(arguments: [
        "STOP", "stop", " Stop. ", "STOP!!", "stopall", "Unsubscribe", "cancel", "END", "quit", "revoke",
        "optout", "OPT OUT", "opt-out", "Opt  Out!", "\n\tstop\n", "«STOP»", "STOP 🛑",
    ])
    func optOutKeywordsOptOut(_ body: String) {
        guard case .optOut = Keywords.classify(body) else {
            Issue.record("\(body.debugDescription) was \(Keywords.classify(body))")
            return
        }
    }

    @Test(arguments: ["START", "start", "Yes", "yes!", "UNSTOP", " unstop. "])
    func optInKeywordsOptIn(_ body: String) {
        guard case .optIn = Keywords.classify(body) else {
            Issue.record("\(body.debugDescription) was \(Keywords.classify(body))")
            return
        }
    }

    @Test(arguments: ["HELP", "help?", "Info", "INFO."])
    func helpKeywordsAskForHelp(_ body: String) {
        guard case .help = Keywords.classify(body) else {
            Issue.record("\(body.debugDescription) was \(Keywords.classify(body))")
            return
        }
    }

    @Test func aLongerMessageWithAnOptOutWordIsFlagged() {
        let intent = Keywords.classify("Please stop texting me")
        #expect(intent == .containsOptOutWord(word: "STOP", range: TextRange(start: 7, end: 11)))
    }

    @Test(arguments: ["Thanks, see you Monday", "Is class stopping early?", "yes please, what time?", "Starting soon?"])
    func ordinaryMessagesAreConversations(_ body: String) {
        #expect(Keywords.classify(body) == .other)
    }
}
