// The app frame: NHS header, the lookup page, and the status bar.
import { Container, Header } from 'nhsuk-react-components';
import { LookupPage } from './pages/LookupPage';
import { StatusBar } from './StatusBar';

export function App() {
  return (
    <>
      <Header service={{ text: 'CP-IS Viewer' }} />
      <Container>
        <main className="nhsuk-main-wrapper" id="maincontent">
          <LookupPage />
        </main>
      </Container>
      <Container>
        <StatusBar />
      </Container>
    </>
  );
}
