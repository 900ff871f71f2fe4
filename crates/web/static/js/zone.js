// Staff see times in their own time zone. Until they choose one on their account page, the
// server learns the browser's from this cookie (the next page shows times in it).
const name = "supportal_tz";
if (!document.cookie.split("; ").some((pair) => pair.startsWith(`${name}=`))) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) document.cookie = `${name}=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=lax`;
}
