//! Rows in PostgreSQL's binary `COPY` format, the fastest way the services have to store many rows at once.

/// Rows in Postgres's binary `COPY` format: a header, per row its field count and each field as its length and
/// its bytes in the type's binary form (NULL as length -1), then a trailer. Send [`CopyRows::bytes`] after
/// `COPY table (columns) FROM STDIN (FORMAT binary)`, the columns in the order each row writes its fields.
pub struct CopyRows(Vec<u8>);

impl CopyRows {
    pub fn new(rows: usize, row_bytes: usize) -> Self {
        let mut out = Vec::with_capacity(19 + rows * row_bytes + 2);
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0i32.to_be_bytes()); // flags
        out.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        CopyRows(out)
    }

    pub fn row(&mut self, fields: i16) -> &mut Self {
        self.0.extend_from_slice(&fields.to_be_bytes());
        self
    }

    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.field(value.as_bytes())
    }

    pub fn int4(&mut self, value: u16) -> &mut Self {
        self.field(&i32::from(value).to_be_bytes())
    }

    pub fn int8(&mut self, value: i64) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.field(&[u8::from(value)])
    }

    /// A u64 as NUMERIC (base-10000 digits, most significant first, with the power of 10,000 of the first), so
    /// that amounts above `i64::MAX` are stored exactly without going through text. Zero has no digits.
    pub fn numeric(&mut self, value: u64) -> &mut Self {
        let mut digits = [0i16; 5];
        let (mut n, mut count) = (value, 0);
        while n > 0 {
            digits[count] = (n % 10_000) as i16;
            n /= 10_000;
            count += 1;
        }
        self.0.extend_from_slice(&(8 + 2 * count as i32).to_be_bytes());
        self.0.extend_from_slice(&(count as i16).to_be_bytes());
        self.0.extend_from_slice(&(count as i16 - 1).max(0).to_be_bytes());
        self.0.extend_from_slice(&[0, 0, 0, 0]); // sign positive, no decimal digits
        for digit in digits[..count].iter().rev() {
            self.0.extend_from_slice(&digit.to_be_bytes());
        }
        self
    }

    pub fn maybe<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T) -> &mut Self) -> &mut Self {
        match value {
            Some(value) => write(self, value),
            None => self.null(),
        }
    }

    /// The rows with the trailer.
    pub fn end(mut self) -> Self {
        self.0.extend_from_slice(&(-1i16).to_be_bytes());
        self
    }

    /// What to send after the `COPY` statement.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::CopyRows;

    #[test]
    fn the_encoding_is_postgres_binary_copy() {
        let mut rows = CopyRows::new(1, 32);
        rows.row(3).int8(-2).maybe(None::<&str>, CopyRows::text).numeric(123_456_789);
        let bytes = rows.end().bytes().to_vec();
        let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend_from_slice(&[0; 8]);
        expected.extend_from_slice(&3i16.to_be_bytes());
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice(&(-2i64).to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes());
        // 1,2345,6789: three base-10000 digits, the first of weight 10000^2.
        expected.extend_from_slice(&14i32.to_be_bytes());
        for word in [3i16, 2, 0, 0, 1, 2345, 6789] {
            expected.extend_from_slice(&word.to_be_bytes());
        }
        expected.extend_from_slice(&(-1i16).to_be_bytes());
        assert_eq!(bytes, expected);
    }
}
