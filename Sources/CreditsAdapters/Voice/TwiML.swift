import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// TwiML, the instructions a voice provider follows on a call (Twilio's markup; the Simulator
/// reads it too). Built from verbs, never from strings pasted together, so text someone typed
/// is always escaped.
public enum TwiML {
    public enum Verb: Sendable, Equatable {
        case say(String, voice: String?, language: String?)
        case play(String)
        case pause(seconds: Int)
        /// Waits for keys; the digits are posted to `action`.
        case gather(numDigits: Int, action: String, timeout: Int, [Verb])
        /// Rings `numbers` together (one `<Number>` each) for `timeout` seconds; the outcome is
        /// posted to `action`; a connected call ends at `timeLimit` seconds.
        case dial(numbers: [String], callerID: String?, timeout: Int, timeLimit: Int, action: String)
        /// Records up to `maxLength` seconds after a beep; the recording is posted to `action`,
        /// its transcription (if asked) to `transcribeCallback`.
        case record(maxLength: Int, action: String, transcribeCallback: String?)
        case hangup
    }

    /// The whole document.
    public static func document(_ verbs: [Verb]) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + verbs.map(markup).joined() + "</Response>"
    }

    static func markup(_ verb: Verb) -> String {
        switch verb {
        case .say(let text, let voice, let language):
            return "<Say\(attribute("voice", voice))\(attribute("language", language))>\(escape(text))</Say>"
        case .play(let url): return "<Play>\(escape(url))</Play>"
        case .pause(let seconds): return "<Pause length=\"\(seconds)\"/>"
        case .gather(let digits, let action, let timeout, let inner):
            return
                "<Gather numDigits=\"\(digits)\" timeout=\"\(timeout)\" action=\"\(escape(action))\" method=\"POST\">"
                + inner.map(markup).joined() + "</Gather>"
        case .dial(let numbers, let callerID, let timeout, let timeLimit, let action):
            return "<Dial\(attribute("callerId", callerID)) timeout=\"\(timeout)\" timeLimit=\"\(timeLimit)\""
                + " action=\"\(escape(action))\" method=\"POST\">"
                + numbers.map { "<Number>\(escape($0))</Number>" }.joined() + "</Dial>"
        case .record(let maxLength, let action, let transcribeCallback):
            let transcription = transcribeCallback.map {
                " transcribe=\"true\" transcribeCallback=\"\(escape($0))\""
            }
            return
                "<Record maxLength=\"\(maxLength)\" playBeep=\"true\" action=\"\(escape(action))\" method=\"POST\"\(transcription ?? "")/>"
        case .hangup: return "<Hangup/>"
        }
    }

    static func attribute(_ name: String, _ value: String?) -> String {
        value.map { " \(name)=\"\(escape($0))\"" } ?? ""
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }

    /// Reads a TwiML document back into verbs (the Simulator follows them); nil when it is not
    /// TwiML this server writes.
    public static func parse(_ text: String) -> [Verb]? {
        let reader = Reader()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = reader
        guard parser.parse(), reader.failed == false, let verbs = reader.stack.first?.children else { return nil }
        return verbs
    }

    final class Reader: NSObject, XMLParserDelegate {
        struct Element {
            var name: String
            var attributes: [String: String]
            var text = ""
            var children: [Verb] = []
            var numbers: [String] = []
        }
        var stack: [Element] = []
        var failed = false

        func parser(
            _ parser: XMLParser,
            didStartElement name: String,
            namespaceURI: String?,
            qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(Element(name: name, attributes: attributes))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if name == "Response" {
                stack.append(element)
                return
            }
            guard !stack.isEmpty else {
                failed = true
                return
            }
            if name == "Number" {
                stack[stack.count - 1].numbers.append(element.text)
                return
            }
            let a = element.attributes
            let verb: Verb
            switch name {
            case "Say": verb = .say(element.text, voice: a["voice"], language: a["language"])
            case "Play": verb = .play(element.text)
            case "Pause": verb = .pause(seconds: Int(a["length"] ?? "1") ?? 1)
            case "Gather":
                verb = .gather(
                    numDigits: Int(a["numDigits"] ?? "1") ?? 1,
                    action: a["action"] ?? "",
                    timeout: Int(a["timeout"] ?? "5") ?? 5,
                    element.children
                )
            case "Dial":
                verb = .dial(
                    numbers: element.numbers,
                    callerID: a["callerId"],
                    timeout: Int(a["timeout"] ?? "30") ?? 30,
                    timeLimit: Int(a["timeLimit"] ?? "14400") ?? 14_400,
                    action: a["action"] ?? ""
                )
            case "Record":
                verb = .record(
                    maxLength: Int(a["maxLength"] ?? "3600") ?? 3600,
                    action: a["action"] ?? "",
                    transcribeCallback: a["transcribe"] == "true" ? a["transcribeCallback"] : nil
                )
            case "Hangup": verb = .hangup
            default:
                failed = true
                return
            }
            stack[stack.count - 1].children.append(verb)
        }
    }
}
