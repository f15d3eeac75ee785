//! Whole numbers as JSON and query strings carry them: `30`, `30.0` and `"30"` are all 30 (a
//! JSON number has no integer type, and generators of the OpenAPI document send `30.0` for an
//! `integer`); `30.5`, a number out of the field's range or anything else is refused, which the
//! JSON and query configurations answer with 400. A JSON string is not a number (`"30"` is
//! refused in a body); a query string is all strings, so there `30` and `30.0` are read from text.

use serde::de::{self, Deserializer, Visitor};

struct WholeNumber {
    /// Read a number from text (a query string), not only from a JSON number.
    from_text: bool,
}

impl Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom("out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // ±2^63 is where an f64 stops fitting an i64
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.is_finite() && v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::custom("not a whole number"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        if !self.from_text {
            return Err(E::invalid_type(de::Unexpected::Str(v), &self));
        }
        match v.parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) => {
                let f: f64 = v.parse().map_err(|_| E::custom("not a number"))?;
                self.visit_f64(f)
            }
        }
    }
}

fn whole<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D, from_text: bool) -> Result<T, D::Error> {
    let n = d.deserialize_any(WholeNumber { from_text })?;
    T::try_from(n).map_err(|_| de::Error::custom("out of range"))
}

/// `#[serde(deserialize_with = "whole::i32")]`
pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    whole(d, false)
}

/// `#[serde(default, deserialize_with = "whole::option_i32")]`
pub fn option_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    option(d, false)
}

/// A query parameter: `#[serde(default, deserialize_with = "whole::query_i64")]`
pub fn query_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    option(d, true)
}

fn option<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    d: D,
    from_text: bool,
) -> Result<Option<T>, D::Error> {
    struct Maybe<T>(bool, std::marker::PhantomData<T>);
    impl<'de, T: TryFrom<i64>> Visitor<'de> for Maybe<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            whole(d, self.0).map(Some)
        }
    }
    d.deserialize_option(Maybe(from_text, std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[serde(deserialize_with = "super::i32")]
        n: i32,
        #[serde(default, deserialize_with = "super::option_i32")]
        page: Option<i32>,
    }

    #[derive(serde::Deserialize, Debug)]
    struct Query {
        #[serde(default, deserialize_with = "super::query_i64")]
        page: Option<i64>,
    }

    fn parse(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_floats_are_taken_as_integers() {
        let b = parse(r#"{"n": 30.0, "page": 2.0}"#).unwrap();
        assert_eq!((b.n, b.page), (30, Some(2)));
        assert_eq!(parse(r#"{"n": -0.0}"#).unwrap().n, 0);
    }

    #[test]
    fn fractions_and_out_of_range_numbers_are_refused() {
        assert!(parse(r#"{"n": 30.5}"#).is_err());
        assert!(parse(r#"{"n": 1e300}"#).is_err());
        assert!(parse(r#"{"n": 2147483648}"#).is_err());
        assert!(
            parse(r#"{"n": "30"}"#).is_err(),
            "a string is not a number in JSON"
        );
    }

    #[test]
    fn null_and_absent_are_none() {
        assert_eq!(parse(r#"{"n": 1, "page": null}"#).unwrap().page, None);
        assert_eq!(parse(r#"{"n": 1}"#).unwrap().page, None);
    }

    #[test]
    fn query_strings_carry_whole_floats_too() {
        let q: Query = serde_urlencoded::from_str("page=30.0").unwrap();
        assert_eq!(q.page, Some(30));
        let q: Query = serde_urlencoded::from_str("page=4").unwrap();
        assert_eq!(q.page, Some(4));
        assert_eq!(serde_urlencoded::from_str::<Query>("").unwrap().page, None);
        assert!(serde_urlencoded::from_str::<Query>("page=30.5").is_err());
        assert!(serde_urlencoded::from_str::<Query>("page=x").is_err());
    }
}
