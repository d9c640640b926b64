import CreditsCore
import CreditsServices
import Hummingbird
import MultipartKit
import NIOCore

/// Forms that send a file (`multipart/form-data`): the contacts import's upload. The parts are
/// split by vapor's MultipartKit; text fields become the form's fields as an encoded form's do
/// (so the session middleware finds `_csrf` the same way), files are kept whole.
extension WebForm {
    /// A file sent with a form.
    struct File: Sendable {
        /// The form field it came in.
        let field: String
        /// The name the browser gave (the file's own name, without its folder).
        let fileName: String
        let bytes: ByteBuffer
    }

    /// Largest body read: a file up to twice the largest the portal takes is still read whole, so
    /// the page can say why it was refused; a larger body is refused before it is all read.
    static var multipartBytesMax: Int { 2 * ContactFile.bytesMax + 64 * 1024 }
    /// Most parts one form may have.
    static let multipartPartsMax = 200

    /// The first file sent in `field`, if one was chosen.
    func file(_ field: String) -> File? { files.first { $0.field == field } }

    /// The most a media upload's body may be: the largest file a text carries, and its form.
    static var mediaBytesMax: Int { MediaLimits.bytesPerMessage + 64 * 1024 }

    /// Refusal of a body over `bytesMax`: a contacts file's sentence, or a media file's.
    static func tooLarge(forMedia: Bool) -> APIError {
        forMedia
            ? APIError(
                .contentTooLarge,
                MediaError.tooLarge(bytes: mediaBytesMax).code,
                "Media for one text is at most 5 MB (5,242,880 bytes).",
                field: "file"
            )
            : APIError(.contentTooLarge, ContactFileError.tooLarge.code, ContactFileError.tooLarge.message)
    }

    /// Reads a multipart form body: its text fields and files. A media upload (`forMedia`) is read
    /// up to the media limit; anything else up to the contacts file's.
    static func readMultipart(_ request: inout Request, forMedia: Bool = false) async throws -> WebForm {
        guard let boundary = boundary(request.headers[.contentType] ?? "") else { throw unreadable }
        let bytesMax = forMedia ? mediaBytesMax : multipartBytesMax
        var body = ByteBuffer()
        var total = 0
        for try await chunk in request.body {
            total += chunk.readableBytes
            guard total <= bytesMax else { throw tooLarge(forMedia: forMedia) }
            body.writeImmutableBuffer(chunk)
        }
        request.body = RequestBody(buffer: body)
        let parts = try split(body, boundary: boundary)
        var pairs: [(String, String)] = []
        var files: [File] = []
        for part in parts {
            let disposition = parameters(part.headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? "")
            guard let name = disposition["name"] else { continue }
            if let fileName = disposition["filename"] {
                files.append(File(field: name, fileName: fileName, bytes: part.body))
            } else {
                pairs.append((name, String(buffer: part.body)))
            }
        }
        return WebForm(pairs: pairs, files: files)
    }

    static var unreadable: APIError {
        APIError(.badRequest, "form_unreadable", "This form could not be read. Reload the page and try again.")
    }

    /// The parts of a body, each with its headers.
    static func split(_ body: ByteBuffer, boundary: String) throws -> [(headers: [(String, String)], body: ByteBuffer)]
    {
        let parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [(String, String)], body: ByteBuffer)] = []
        var headers: [(String, String)] = []
        var current = ByteBuffer()
        parser.onHeader = { name, value in headers.append((name, value)) }
        parser.onBody = { chunk in current.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append((headers, current))
            headers = []
            current = ByteBuffer()
        }
        // MultipartKit's parser traps on a header name byte above 0x7F (it indexes a 128-entry
        // table): such a body is refused before it reaches the parser, so it cannot stop the server.
        guard headerNamesAreASCII(body, boundary: boundary) else { throw unreadable }
        do { try parser.execute(body) } catch { throw unreadable }
        guard parts.count <= multipartPartsMax else { throw unreadable }
        return parts
    }

    /// Whether every header line after every boundary has a name (the bytes before its colon, or
    /// the whole line without one) of ASCII bytes only.
    static func headerNamesAreASCII(_ body: ByteBuffer, boundary: String) -> Bool {
        let bytes = Array(body.readableBytesView)
        let delimiter = Array("--\(boundary)".utf8)
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard let first = needle.first, start < bytes.count else { return nil }
            var index = start
            while index + needle.count <= bytes.count {
                if bytes[index] == first && bytes[index..<index + needle.count].elementsEqual(needle) { return index }
                index += 1
            }
            return nil
        }
        var position = 0
        while let start = find(delimiter, from: position) {
            guard let endOfDelimiterLine = find([13, 10], from: start + delimiter.count) else { return true }
            var line = endOfDelimiterLine + 2
            // Header lines up to the blank line.
            while line < bytes.count {
                let end = find([13, 10], from: line) ?? bytes.count
                if end == line { break }
                let nameEnd = bytes[line..<end].firstIndex(of: UInt8(ascii: ":")) ?? end
                if bytes[line..<nameEnd].contains(where: { $0 >= 0x80 }) { return false }
                line = end + 2
            }
            position = line
        }
        return true
    }

    /// The boundary of a `multipart/form-data` content type.
    static func boundary(_ contentType: String) -> String? {
        let value = parameters(contentType)["boundary"]
        guard let value, !value.isEmpty, value.utf8.count <= 200 else { return nil }
        return value
    }

    /// The `key=value` parameters of a header such as `form-data; name="file"; filename="a;b.csv"`
    /// (keys lowercased; quoted values may hold `;` and `\"`).
    static func parameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var key = ""
        var value = ""
        var inValue = false
        var quoted = false
        var escaped = false
        func finish() {
            let name = key.trimmingCharacters(in: .whitespaces).lowercased()
            if inValue, !name.isEmpty, result[name] == nil {
                result[name] = quoted ? value : value.trimmingCharacters(in: .whitespaces)
            }
            (key, value, inValue, quoted, escaped) = ("", "", false, false, false)
        }
        for character in header {
            if inValue, quoted {
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    quoted = false
                } else {
                    value.append(character)
                }
            } else if character == ";" {
                finish()
            } else if inValue {
                if character == "\"", value.trimmingCharacters(in: .whitespaces).isEmpty {
                    value = ""
                    quoted = true
                } else {
                    value.append(character)
                }
            } else if character == "=" {
                inValue = true
            } else {
                key.append(character)
            }
        }
        finish()
        return result
    }
}
