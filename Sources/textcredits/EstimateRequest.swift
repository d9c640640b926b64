import CreditsCore

/// One text to estimate, from the command line or one `--jsonl` input line.
struct EstimateRequest {
    var text: String
    var channel: String = "sms"
    var smartEncoding: Bool = false
    var header: String = ""
    var footer: String = ""

    init(text: String, channel: String, smartEncoding: Bool, header: String, footer: String) {
        self.text = text
        self.channel = channel
        self.smartEncoding = smartEncoding
        self.header = header
        self.footer = footer
    }

    /// The estimate, or the refusal with its stable code.
    func estimate() -> Result<Estimate, EstimateFailure> {
        guard let channel = Channel(rawValue: channel) else { return .failure(.unknownChannel(channel)) }
        let options = EstimateOptions(
            channel: channel,
            smartEncoding: smartEncoding,
            composition: Composition(header: header, footer: footer)
        )
        do {
            return .success(try Estimator.estimate(body: text, options: options))
        } catch {
            return .failure(.message(error))
        }
    }

    /// The channel as parsed (sms when unknown, for display only).
    var parsedChannel: Channel { Channel(rawValue: channel) ?? .sms }
}

/// Why an estimate was refused.
enum EstimateFailure: Error {
    case unknownChannel(String)
    case message(MessageError)

    var code: String {
        switch self {
        case .unknownChannel: "channel_unknown"
        case .message(let error): error.code
        }
    }

    var message: String {
        switch self {
        case .unknownChannel(let name): "\(name) is not a channel; use sms, toll-free or mms."
        case .message(let error): error.message
        }
    }
}
