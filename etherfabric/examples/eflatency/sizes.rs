// eflatency's `-s`: one UDP payload size, a sweep written as a Python slice
// (`start:end[:step]`, end not included, as the SDK sample runs it), or a list (`a,b,c`).

/// The payload sizes one run measures, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Sizes {
    /// `start:end:step` (a single size `n` is `n:n:1`).
    Slice { start: i64, end: i64, step: i64 },
    /// `a,b,c`.
    List(Vec<i64>),
}

impl Default for Sizes {
    fn default() -> Sizes {
        Sizes::Slice {
            start: 0,
            end: 0,
            step: 1,
        }
    }
}

fn int(s: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or_else(|| format!("Unable to parse '{s}': not an integer"))
}

impl Sizes {
    /// Parses the value of `-s`.
    pub fn parse(s: &str) -> Result<Sizes, String> {
        if s.contains(':') {
            let mut parts = s.split(':');
            let start = int(parts.next().unwrap_or(""))?;
            let end = int(parts.next().unwrap_or(""))?;
            let step = match parts.next() {
                Some(p) => int(p)?,
                None => 1,
            };
            if parts.next().is_some() {
                return Err(format!("Unable to parse '{s}': too many ':'"));
            }
            Ok(Sizes::Slice { start, end, step })
        } else if s.contains(',') {
            Ok(Sizes::List(
                s.split(',').map(int).collect::<Result<_, _>>()?,
            ))
        } else {
            let n = int(s)?;
            Ok(Sizes::Slice {
                start: n,
                end: n,
                step: 1,
            })
        }
    }

    /// Refuses a slice whose end cannot be reached, with the sample's messages.
    pub fn check(&self) -> Result<(), String> {
        if let Sizes::Slice { start, end, step } = *self {
            if step == 0 && start != end {
                return Err("Please provide payload step".into());
            }
            if (step < 0 && end > start) || (step > 0 && end < start) {
                return Err("Max payload size not reachable from min".into());
            }
        }
        if self.all().iter().any(|&n| n < 0) {
            return Err("a payload size cannot be negative".into());
        }
        Ok(())
    }

    /// Every size, in the order they run: the first always, then each step while the end
    /// is not reached.
    pub fn all(&self) -> Vec<i64> {
        match self {
            Sizes::List(v) => v.clone(),
            &Sizes::Slice { start, end, step } => {
                let mut out = vec![start];
                if step == 0 {
                    return out;
                }
                let mut n = start + step;
                while (step > 0 && n < end) || (step < 0 && n > end) {
                    out.push(n);
                    n += step;
                }
                out
            }
        }
    }

    /// The sizes as the sample prints them after `# udp payload len: ` (or, with `offset`
    /// the header length, `# frame len: `).
    pub fn describe(&self, offset: i64) -> String {
        match self {
            Sizes::List(v) => join(v, offset),
            &Sizes::Slice { start, end, step } => {
                if offset == 0 {
                    format!("{start}:{end}:{step}")
                } else {
                    format!("{}", start + offset)
                }
            }
        }
    }

    /// The sizes as a YAML value: a flow sequence for a list, else `{ start, end, step }`.
    pub fn yaml(&self, offset: i64) -> String {
        match self {
            Sizes::List(v) => format!("[ {} ]", join(v, offset)),
            &Sizes::Slice { start, end, step } => format!(
                "{{ start: {}, end: {}, step: {step} }}",
                start + offset,
                end + offset
            ),
        }
    }
}

fn join(v: &[i64], offset: i64) -> String {
    v.iter()
        .map(|n| (n + offset).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
