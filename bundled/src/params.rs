//! Values captured by dynamic route segments, handed to the route's handler.

/// What the dynamic segments of the matched route captured, percent-decoded.
///
/// `#[bundled_api]` stores it in the request's extensions for routes that capture anything;
/// a handler reads it with [`RouteParams::of`]:
///
/// ```
/// use bundled_api::RouteParams;
/// # let req = http::Request::new(());
/// // In api/users/[id].rs:
/// let id: &str = RouteParams::of(&req).get("id").unwrap_or_default();
/// // In api/docs/[...slug].rs:
/// let slug: &[String] = RouteParams::of(&req).get_all("slug");
/// # // A request `#[bundled_api]` did not route has no captures.
/// # assert_eq!((id, slug.len()), ("", 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteParams {
    captures: Vec<(&'static str, Capture)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Capture {
    One(String),
    Many(Vec<String>),
}

static NONE: RouteParams = RouteParams {
    captures: Vec::new(),
};

impl RouteParams {
    /// The params of a request routed by `#[bundled_api]`; empty for a static route.
    #[must_use]
    pub fn of<B>(req: &http::Request<B>) -> &RouteParams {
        req.extensions().get::<RouteParams>().unwrap_or(&NONE)
    }

    /// The value of a dynamic segment such as `[id]`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find_map(|(key, capture)| match capture {
                Capture::One(value) if *key == name => Some(value.as_str()),
                _ => None,
            })
    }

    /// The segments a catch-all such as `[...slug]` or `[[...slug]]` captured; empty when an
    /// optional catch-all captured nothing or no such param exists.
    #[must_use]
    pub fn get_all(&self, name: &str) -> &[String] {
        self.captures
            .iter()
            .find_map(|(key, capture)| match capture {
                Capture::Many(values) if *key == name => Some(values.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// Whether the route captured nothing: a static route, or none matched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.captures.is_empty()
    }

    /// These params with `name` captured as one segment, as `[name]` would: for testing a
    /// route's logic without a server. Put them in a request's extensions, where
    /// `#[bundled_api]` puts them, or pass them to code that takes `&RouteParams`:
    ///
    /// ```
    /// use bundled_api::RouteParams;
    ///
    /// // The logic of api/users/[id].rs, apart from the handler, so it can run on any request.
    /// fn user_id<B>(req: &http::Request<B>) -> Option<u64> {
    ///     RouteParams::of(req).get("id")?.parse().ok()
    /// }
    ///
    /// let mut req = http::Request::new(());
    /// req.extensions_mut().insert(RouteParams::default().with("id", "42"));
    /// assert_eq!(user_id(&req), Some(42));
    /// ```
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.push_one(name, value.into());
        self
    }

    /// These params with `name` captured as a list of segments, as `[...name]` or
    /// `[[...name]]` would; see [`RouteParams::with`].
    ///
    /// ```
    /// use bundled_api::RouteParams;
    ///
    /// let params = RouteParams::default().with_all("slug", ["guides", "getting started"]);
    /// assert_eq!(params.get_all("slug"), ["guides", "getting started"]);
    /// ```
    #[must_use]
    pub fn with_all<S: Into<String>>(
        mut self,
        name: &'static str,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.push_many(name, values.into_iter().map(Into::into).collect());
        self
    }

    pub(crate) fn push_one(&mut self, name: &'static str, value: String) {
        self.captures.push((name, Capture::One(value)));
    }

    pub(crate) fn push_many(&mut self, name: &'static str, values: Vec<String>) {
        self.captures.push((name, Capture::Many(values)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_params_reads_as_empty() {
        let req = http::Request::new(());
        assert!(RouteParams::of(&req).is_empty());
        assert_eq!(RouteParams::of(&req).get("id"), None);
        assert!(RouteParams::of(&req).get_all("slug").is_empty());
    }

    #[test]
    fn params_stored_in_the_extensions_are_found() {
        let mut params = RouteParams::default();
        params.push_one("id", "42".into());
        params.push_many("slug", vec!["a".into(), "b".into()]);
        let mut req = http::Request::new(());
        req.extensions_mut().insert(params);
        assert_eq!(RouteParams::of(&req).get("id"), Some("42"));
        assert_eq!(RouteParams::of(&req).get_all("slug"), ["a", "b"]);
    }

    #[test]
    fn params_built_by_hand_read_back_and_are_not_empty() {
        let params = RouteParams::default()
            .with("id", "42")
            .with_all("slug", ["a", "b"]);
        assert!(!params.is_empty());
        assert_eq!(params.get("id"), Some("42"));
        assert_eq!(params.get_all("slug"), ["a", "b"]);
        assert!(!RouteParams::default().with_all("slug", [""; 0]).is_empty());
    }

    #[test]
    fn a_single_value_is_not_read_as_a_list_or_the_reverse() {
        let mut params = RouteParams::default();
        params.push_one("id", "42".into());
        params.push_many("slug", vec!["a".into()]);
        assert!(params.get_all("id").is_empty());
        assert_eq!(params.get("slug"), None);
    }
}
