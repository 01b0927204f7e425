// Entry point of the web UI inside the Tauri window.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ErrorBoundary } from './ErrorBoundary';
import './styles.scss';

// nhsuk-frontend's components run only where the page says it supports them; the template
// normally does this with an inline script, which our CSP forbids.
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');

const root = document.getElementById('root');
if (root === null) {
  throw new Error('The page has no root element');
}
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);
