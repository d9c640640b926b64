import Testing

@testable import CreditsCore

@Suite struct CompositionTests {
    @Test func headerAndFooterSurroundTheBodyAndCountTowardSegments() throws {
        let composition = Composition(header: "Bright Stars Gym", footer: "To opt out, reply STOP.")
        let text = try composition.compose(body: "Class is canceled today.")
        #expect(text == "Bright Stars Gym\nClass is canceled today.\nTo opt out, reply STOP.")
        let body = String(repeating: "a", count: 120)
        #expect(Segmenter.segment(try composition.compose(body: body)).segments == 2)
        #expect(Segmenter.segment(body).segments == 1)
    }

    @Test func headerAndFooterAreLimitedToFiftyCharacters() {
        #expect(throws: MessageError.partTooLong(part: .header, length: 51)) {
            try Composition(header: String(repeating: "h", count: 51)).validated()
        }
        #expect(throws: MessageError.partTooLong(part: .footer, length: 51)) {
            try Composition(footer: String(repeating: "f", count: 51)).validated()
        }
        #expect(throws: Never.self) { try Composition(header: String(repeating: "h", count: 50)).validated() }
    }

    @Test func theSignupMessageIsSentAloneWithinItsOwnLimit() throws {
        #expect(try Composition.composeSignup("Welcome!") == "Welcome!")
        #expect(throws: MessageError.partTooLong(part: .signupMessage, length: 161)) {
            try Composition.composeSignup(String(repeating: "s", count: 161))
        }
    }

    @Test func bodiesMustHaveOneToSixteenHundredCharacters() {
        #expect(throws: MessageError.bodyEmpty) { try MessageBody.validate("") }
        #expect(throws: MessageError.bodyTooLong(length: 1601)) {
            try MessageBody.validate(String(repeating: "a", count: 1601))
        }
        #expect(throws: Never.self) { try MessageBody.validate(String(repeating: "a", count: 1600)) }
    }

    @Test func aComposedMessageOverTheLimitIsRefused() {
        let composition = Composition(header: "Header", footer: "Footer")
        #expect(throws: MessageError.composedTooLong(length: 1614)) {
            try composition.compose(body: String(repeating: "a", count: 1600))
        }
    }

    @Test func errorsHaveStableCodes() {
        #expect(MessageError.bodyEmpty.code == "body_empty")
        #expect(MessageError.bodyTooLong(length: 1601).code == "body_too_long")
        #expect(MessageError.partTooLong(part: .signupMessage, length: 200).code == "signup_message_too_long")
        #expect(MessageError.mergeFieldUnknown(name: "x").code == "merge_field_unknown")
    }
}

@Suite struct MergeFieldTests {
    @Test func fieldsAreFilledFromTheRecipientsValues() throws {
        let text = try MergeFields.render(
            "Hi {{first_name}}, see you {{ day }}!",
            values: ["first_name": "Ana", "day": "Monday"]
        )
        #expect(text == "Hi Ana, see you Monday!")
    }

    @Test func anUnknownFieldIsAnErrorNamingIt() {
        #expect(throws: MessageError.mergeFieldUnknown(name: "nickname")) {
            try MergeFields.render("Hi {{nickname}}", values: ["first_name": "Ana"])
        }
    }

    @Test func anEmptyFieldIsAnErrorNeverASilentBlank() {
        #expect(throws: MessageError.mergeFieldEmpty(name: "first_name")) {
            try MergeFields.render("Hi {{first_name}},", values: ["first_name": "  "])
        }
    }

    @Test func anUnclosedFieldIsMalformed() {
        #expect(throws: MessageError.mergeFieldMalformed(position: 3)) {
            try MergeFields.render("Hi {{first_name", values: [:])
        }
        #expect(throws: MessageError.mergeFieldMalformed(position: 0)) { try MergeFields.render("{{}}", values: [:]) }
    }

    @Test func namesAreListedOnceInOrder() throws {
        #expect(try MergeFields.names(in: "{{a}} {{b}} {{a}}") == ["a", "b"])
        #expect(try MergeFields.names(in: "no fields") == [])
    }
}

@Suite struct PriceListTests {
    @Test(arguments: [
        (Channel.sms, 1, 1000), (.sms, 3, 3000), (.tollFree, 1, 1500), (.tollFree, 2, 3000), (.mms, 5, 2000),
    ])
    func textsCostTheirChannelsPrice(_ channel: Channel, _ segments: Int, _ milli: Int64) {
        #expect(PriceList.standard.text(channel: channel, segments: segments).milli == milli)
    }

    @Test func callsAreBilledPerStartedMinute() {
        let prices = PriceList.standard
        #expect(prices.voiceBroadcast(seconds: 61, machineDetection: true).milli == 4500)
        #expect(prices.voiceBroadcast(seconds: 60, machineDetection: false).milli == 2000)
        #expect(prices.outgoingCall(seconds: 0).milli == 0)
        #expect(prices.outgoingCall(seconds: 1).milli == 2000)
        #expect(prices.forwardedCall(seconds: 90, voicemail: true, transcribed: true).milli == 11000)
        #expect(prices.inboundText == .zero)
    }
}
