// The status bar: the app's version (sign-in, service reachability and the audit queue join it later).
import { useEffect, useState } from 'react';
import { appInfo } from './backend';

export function StatusBar() {
  const [version, setVersion] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    appInfo()
      .then((info) => {
        if (live) setVersion(info.version);
      })
      .catch(() => {
        if (live) setVersion(null);
      });
    return () => {
      live = false;
    };
  }, []);
  return (
    <footer className="app-status-bar" aria-label="Status">
      CP-IS Viewer {version === null ? '' : `version ${version}`}
    </footer>
  );
}
