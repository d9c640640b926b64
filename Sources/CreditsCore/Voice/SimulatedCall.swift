import Foundation

/// A call the Simulator placed, as it keeps it (so a restart finishes it and a retry of the same
/// reference rings nobody again).
public struct SimulatedCall: Sendable, Equatable, Codable {
    public var reference: String
    public var providerID: String
    public var from: String
    public var to: String
    public var timeLimit: Int
    public var machineDetection: MachineDetection
    public var answerURL: String
    public var statusCallback: String
    public var expectedSeconds: Int

    public init(
        reference: String,
        providerID: String,
        from: String,
        to: String,
        timeLimit: Int,
        machineDetection: MachineDetection,
        answerURL: String,
        statusCallback: String,
        expectedSeconds: Int
    ) {
        self.reference = reference
        self.providerID = providerID
        self.from = from
        self.to = to
        self.timeLimit = timeLimit
        self.machineDetection = machineDetection
        self.answerURL = answerURL
        self.statusCallback = statusCallback
        self.expectedSeconds = expectedSeconds
    }
}

/// How the Simulator's phones behave, chosen by the number's last four digits: 0001 fails, 0003 is
/// busy, 0004 does not answer, 0005 is an answering machine, 0006 talks for hours (a call ended
/// only by its time limit), 0009 presses 9 to stop; everyone else answers and talks 95 seconds.
public enum SimulatedPhone: Sendable, Equatable {
    case fails
    case busy
    case noAnswer
    case machine
    case person(talkSeconds: Int, pressesNine: Bool)

    public static let talkSeconds = 95
    public static let longTalkSeconds = 4 * 3600

    public init(number: String) {
        switch number.suffix(4) {
        case "0001": self = .fails
        case "0003": self = .busy
        case "0004": self = .noAnswer
        case "0005": self = .machine
        case "0006": self = .person(talkSeconds: SimulatedPhone.longTalkSeconds, pressesNine: false)
        case "0009": self = .person(talkSeconds: SimulatedPhone.talkSeconds, pressesNine: true)
        default: self = .person(talkSeconds: SimulatedPhone.talkSeconds, pressesNine: false)
        }
    }
}
