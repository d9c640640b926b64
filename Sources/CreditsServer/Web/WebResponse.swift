import Foundation
import Hummingbird

/// Responses the portal sends: pages, redirects with a one-time message, downloads.
enum WebResponse {
    /// The header the pages' scripts send the CSRF token in.
    static let csrfHeader = "x-csrf-token"
    /// The cookie that carries a one-time message to the next page ("Credits purchased.").
    static let flashCookie = "tc_flash"

    /// A portal page: its script and style come only from this site.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = document(text, status: status)
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Content-Security-Policy")!] =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
        return response
    }

    /// A standalone HTML document that is not stored by caches (an invoice, with its own inline
    /// style and print button). Its policy allows that style and that one button's handler
    /// (`window.print()`, by its hash) and nothing else: no other script, no frames, no forms.
    static func document(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.init("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-hashes' 'sha256-\(printHandlerHash)'; "
            + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The SHA-256 (base64) of the invoice's print button handler, `window.print()`.
    static let printHandlerHash = "MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU="

    /// A 303 to a page of this site, with an optional message for it.
    static func redirect(_ location: String, notice: String? = nil, error: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = safeLocation(location)
        var response = Response(status: .seeOther, headers: headers)
        if let text = error.map({ "error:" + $0 }) ?? notice.map({ "notice:" + $0 }) {
            response.setCookie(
                Cookie(
                    name: flashCookie,
                    value: text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "",
                    path: "/",
                    httpOnly: true,
                    sameSite: .lax
                )
            )
        }
        return response
    }

    /// `location` when it is a path on this site, else the dashboard. Browsers drop tabs and line
    /// breaks from a URL and read `\\` as `/`, so `/<TAB>/evil.example` would leave the site: only
    /// printable ASCII without backslashes is kept, starting with one `/`.
    static func safeLocation(_ location: String) -> String {
        let bytes = Array(location.utf8)
        guard bytes.first == UInt8(ascii: "/"), bytes.count == 1 || bytes[1] != UInt8(ascii: "/"),
            bytes.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") })
        else { return "/dashboard" }
        return location
    }

    /// The one-time message a redirect left, if any: its kind ("notice" or "error") and text.
    static func flash(_ request: Request) -> (kind: String, text: String)? {
        guard let raw = request.cookies[flashCookie]?.value.removingPercentEncoding, let colon = raw.firstIndex(of: ":")
        else { return nil }
        let kind = String(raw[..<colon])
        guard kind == "notice" || kind == "error" else { return nil }
        return (kind, String(raw[raw.index(after: colon)...].prefix(500)))
    }

    /// The one-time message as the layout shows it.
    static func flashValues(_ request: Request) -> [String: Any]? {
        flash(request).map { ["kind": $0.kind, "text": $0.text, "role": $0.kind == "error" ? "alert" : "status"] }
    }

    /// Clears the one-time message once a page has shown it.
    static func clearFlash(_ response: inout Response) {
        response.setCookie(Cookie(name: flashCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax))
    }

    /// A file to save (CSV, an invoice).
    static func download(_ text: String, contentType: String, filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
